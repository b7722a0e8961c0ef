import CZlib
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Bytes to read, from a file or a decompressor: what TarReader takes.
public protocol ByteSource: AnyObject {
    /// Up to `count` bytes; empty at the end.
    func read(upTo count: Int) throws -> [UInt8]
}

extension FileDescriptor: ByteSource {}

/// A gzip file inflated in this process by zlib (concatenated members too, as gzip
/// writes them): no decompressor process and no pipe between it and the unpacker.
final class GzipSource: ByteSource {
    private let file: FileDescriptor
    private let label: String
    private let stream: UnsafeMutablePointer<z_stream>
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var fileEnded = false
    private var streamEnded = false

    init(file: FileDescriptor, label: String) throws {
        self.file = file
        self.label = label
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = sh_inflate_init_gzip(stream)
        guard rc == Z_OK else {
            stream.deallocate()
            throw ImageError("\(label): zlib's inflateInit2 failed (\(rc))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func read(upTo count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var produced = 0
        while produced == 0 {
            if streamEnded {
                // Another gzip member may follow (gzip concatenates them); else the end.
                if inputOffset >= input.count { try refill() }
                guard inputOffset < input.count else { return [] }
                inflateReset(stream)
                streamEnded = false
            }
            if inputOffset >= input.count {
                try refill()
                if inputOffset >= input.count {
                    throw ImageError("\(label): the gzip stream ends early (truncated layer)")
                }
            }
            let rc = input.withUnsafeMutableBufferPointer { inBuf in
                out.withUnsafeMutableBufferPointer { outBuf in
                    stream.pointee.next_in = inBuf.baseAddress! + inputOffset
                    stream.pointee.avail_in = UInt32(inBuf.count - inputOffset)
                    stream.pointee.next_out = outBuf.baseAddress! + produced
                    stream.pointee.avail_out = UInt32(outBuf.count - produced)
                    let rc = inflate(stream, Z_NO_FLUSH)
                    inputOffset = inBuf.count - Int(stream.pointee.avail_in)
                    produced = outBuf.count - Int(stream.pointee.avail_out)
                    return rc
                }
            }
            switch rc {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: streamEnded = true
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw ImageError("\(label): not a valid gzip stream (\(message))")
            }
            if produced == 0 && streamEnded && inputOffset >= input.count && fileEnded { return [] }
        }
        out.removeLast(count - produced)
        return out
    }

    private func refill() throws {
        guard !fileEnded else { return }
        input = try file.read(upTo: 1 << 20)
        inputOffset = 0
        if input.isEmpty { fileEnded = true }
    }
}
