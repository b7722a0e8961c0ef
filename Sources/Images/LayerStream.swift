import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// A layer blob read once, as it is unpacked: decompressed on the way when it is
/// gzip (zlib, in process) or zstd (the zstd tool, through a pipe), told apart by
/// their magic bytes (skopeo keeps a layout's compressed blobs as they are), and its
/// plain tar hashed on the way by sha256sum through a pipe, so the layer's content
/// is read from disk once and never written decompressed. The digest is known only
/// at the end: the caller unpacks into a temporary directory and keeps it only when
/// the digest is the one the image names.
final class LayerStream {
    /// The plain tar, for TarReader.
    let tar: ByteSource
    /// The descriptor `tar` reads (the blob, or the decompressor's pipe).
    private let source: FileDescriptor
    /// What TarReader reads is copied here (sha256sum's input).
    private(set) var hashInput: FileDescriptor?
    private let decompressor: ExternalTool?
    private let hasher: ExternalTool
    private var finished = false

    init(blob: String, scratch: String) throws {
        let head = (try? FileDescriptor.open(blob, O_RDONLY).read(upTo: 4)) ?? []
        let tool: String? = head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) ? "/usr/bin/zstd" : nil
        if head.starts(with: [0x1f, 0x8b]) {
            decompressor = nil
            source = try FileDescriptor.open(blob, O_RDONLY)
            tar = try GzipSource(file: source, label: "layer \(blob)")
        } else if let tool {
            let (readEnd, writeEnd) = try FileDescriptor.pipe()
            // 1 MiB instead of 64 KiB: a sixteenth of the reads and writes (a layer of
            // 100 MB crosses two pipes). Best effort: the default works, only slower.
            _ = sh_set_pipe_size(writeEnd.rawValue, 1 << 20)
            let name = tool.split(separator: "/").last.map(String.init) ?? tool
            decompressor = try ExternalTool.start(tool, [name, "-dc", "--", blob], scratch: scratch, stdout: writeEnd.rawValue)
            writeEnd.close()
            source = readEnd
            tar = readEnd
        } else {
            decompressor = nil
            source = try FileDescriptor.open(blob, O_RDONLY)
            tar = source
        }
        let (hashRead, hashWrite) = try FileDescriptor.pipe()
        _ = sh_set_pipe_size(hashWrite.rawValue, 1 << 20)
        do {
            hasher = try ExternalTool.start("/usr/bin/sha256sum", ["sha256sum"], scratch: scratch, stdin: hashRead.rawValue)
        } catch {
            source.close()
            if let decompressor { _ = try? decompressor.finish(what: "") }
            throw error
        }
        hashRead.close()
        hashInput = hashWrite
    }

    /// Reads what the unpacker left (padding after the archive's end marker counts in
    /// the digest), then waits for the tools: "sha256:<hex>" of the whole plain tar.
    func finish(label: String) throws -> String {
        finished = true
        while true {
            let chunk = try tar.read(upTo: 256 << 10)
            if chunk.isEmpty { break }
            try hashInput?.write(chunk)
        }
        source.close()
        hashInput?.close()
        hashInput = nil
        try decompressor?.finish(what: "\(label): decompressing")
        let out = try hasher.finish(what: "\(label): digest")
        return "sha256:" + String(decoding: out.prefix(64), as: UTF8.self)
    }

    /// After a refusal: the decompressor dies of SIGPIPE, sha256sum of its input's
    /// end; both are reaped.
    deinit {
        guard !finished else { return }
        source.close()
        hashInput?.close()
        _ = try? decompressor?.finish(what: "")
        _ = try? hasher.finish(what: "")
    }
}
