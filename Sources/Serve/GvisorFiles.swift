import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A gVisor sandbox's files. Its root lives in gVisor's kernel (the overlay in the
/// sandbox's memory): the host has no path to it, so each operation is a small shell
/// script run inside by `safehouse exec` as the sandbox's root, the content passing
/// over the exec's stdin or stdout. Paths are resolved by gVisor inside the sandbox,
/// which cannot reach the host at all; the answers are the native backend's
/// (SandboxFiles): only regular files are read or written (a device node, a FIFO or a
/// directory is refused), a missing path is 404, a directory with contents is removed
/// whole. Needs /bin/sh, cat, stat, mkdir and rm in the image (the idle init needs sh
/// already). Slower than the native backend's direct access by one exec per call.
struct GvisorFiles {
    let runtime: RuntimeClient
    let id: String

    /// The exit statuses the scripts use for what the native backend learns from errno.
    private enum Status: Int32 {
        case notFound = 10, notRegular = 11, notDirectory = 12, existsNotRegular = 13
    }

    /// The one script: `sh -c SCRIPT sh OP PATH`. `[ -f ]` and `[ -d ]` follow links, as
    /// the native backend's resolution does (inside the root); a dangling one is missing.
    private static let script = #"""
    op=$1 p=$2
    case $op in
    read)
        [ -e "$p" ] || exit 10
        [ -f "$p" ] || exit 11
        exec cat -- "$p" ;;
    write)
        if [ -e "$p" ] || [ -L "$p" ]; then [ -f "$p" ] || exit 13; fi
        exec cat > "$p" ;;
    list)
        [ -e "$p" ] || exit 10
        [ -d "$p" ] || exit 12
        cd -- "$p" || exit 1
        for n in * .*; do
            case $n in .|..) continue ;; esac
            [ -e "$n" ] || [ -L "$n" ] || continue
            if [ -L "$n" ]; then t=symlink; elif [ -f "$n" ]; then t=file; elif [ -d "$n" ]; then t=dir; else t=other; fi
            printf '%s/%s/%s\0' "$t" "$(stat -c %s -- "$n")" "$n"
        done ;;
    mkdir)
        if [ -d "$p" ]; then echo existed; exit 0; fi
        mkdir -p -- "$p" && echo made ;;
    remove)
        [ -e "$p" ] || [ -L "$p" ] || exit 10
        exec rm -rf -- "$p" ;;
    esac
    """#

    /// Runs OP on PATH inside the sandbox with `stdin` (nil: /dev/null); its status, its
    /// stdout as an unlinked host file read from the start, and its stderr.
    private func run(_ op: String, _ path: String, stdin: Int32? = nil) throws -> (Int32, OwnedDescriptor, String) {
        let args = runtime.execArguments(id: id, argv: ["/bin/sh", "-c", Self.script, "sh", op, path], cwd: "/", env: [:])
        let out = OwnedDescriptor(try RuntimeClient.scratchFile())
        let err = OwnedDescriptor(try RuntimeClient.scratchFile())
        let null = OwnedDescriptor(try ChildProcess.devNull())
        // As the sandbox's root: what it makes belongs to it, as on the native backend.
        let child = try ChildProcess.start(runtime.executable, Self.asRoot(args), stdin: stdin ?? null.rawValue, stdout: out.rawValue, stderr: err.rawValue)
        let status = child.wait()
        lseek(out.rawValue, 0, SEEK_SET)
        let message = String(decoding: RuntimeClient.contents(err.rawValue), as: UTF8.self)
        return (status, out, message)
    }

    /// `exec --user 0:0` before the id.
    private static func asRoot(_ args: [String]) -> [String] {
        guard let at = args.firstIndex(of: "exec") else { return args }
        var copy = args
        copy.insert(contentsOf: ["--user", "0:0"], at: at + 1)
        return copy
    }

    /// The native backend's answer for a failed script.
    private func failure(_ status: Int32, _ stderr: String, _ path: String) -> APIError {
        switch Status(rawValue: status) {
        case .notFound: return SandboxFiles.failure(ENOENT, path)
        case .notRegular: return APIError.badRequest(field: "path", "\(path) is not a regular file")
        case .notDirectory: return SandboxFiles.failure(ENOTDIR, path)
        case .existsNotRegular: return APIError.badRequest(field: "path", "\(path) exists and is not a regular file")
        case nil:
            let text = stderr.lowercased()
            for (words, code) in [("no such file", ENOENT), ("permission denied", EACCES), ("read-only", EROFS),
                                  ("no space", ENOSPC), ("nonexistent directory", ENOENT), ("not a directory", ENOTDIR), ("is a directory", EISDIR)]
            where text.contains(words) {
                return SandboxFiles.failure(code, path)
            }
            let line = stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
            return APIError.runtime("files: \(path): \(line)")
        }
    }

    /// The file's bytes (in an unlinked host file) and their count.
    func openForReading(_ path: String) throws -> (OwnedDescriptor, Int64) {
        let (status, out, stderr) = try run("read", path)
        guard status == 0 else { throw failure(status, stderr, path) }
        var st = stat()
        fstat(out.rawValue, &st)
        return (out, Int64(st.st_size))
    }

    /// Writes the bytes of `content` (a host file, read from its start) to `path`,
    /// truncated or made (0644 under the sandbox's umask).
    func write(_ path: String, from content: Int32) throws {
        _ = try SandboxFiles.split(path)
        lseek(content, 0, SEEK_SET)
        let (status, _, stderr) = try run("write", path, stdin: content)
        guard status == 0 else { throw failure(status, stderr, path) }
    }

    func list(_ path: String) throws -> [SandboxFiles.Entry] {
        let (status, out, stderr) = try run("list", path)
        guard status == 0 else { throw failure(status, stderr, path) }
        let data = RuntimeClient.contents(out.rawValue)
        return data.split(separator: 0).compactMap { record -> SandboxFiles.Entry? in
            let fields = record.split(separator: UInt8(ascii: "/"), maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let size = Int64(String(decoding: fields[1], as: UTF8.self)) else { return nil }
            return SandboxFiles.Entry(name: String(decoding: fields[2], as: UTF8.self), type: String(decoding: fields[0], as: UTF8.self), size: size)
        }.sorted { $0.name < $1.name }
    }

    /// True when it made the directory, false when it was there already.
    func makeDirectory(_ path: String) throws -> Bool {
        _ = try SandboxFiles.split(path)
        if path.split(separator: "/").contains("..") { throw APIError.badRequest(field: "path", "\(path): .. is not allowed here") }
        let (status, out, stderr) = try run("mkdir", path)
        guard status == 0 else { throw failure(status, stderr, path) }
        return String(decoding: RuntimeClient.contents(out.rawValue), as: UTF8.self).hasPrefix("made")
    }

    func remove(_ path: String) throws {
        _ = try SandboxFiles.split(path)
        let (status, _, stderr) = try run("remove", path)
        guard status == 0 else { throw failure(status, stderr, path) }
    }
}
