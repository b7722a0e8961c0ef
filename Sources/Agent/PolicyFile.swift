import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Reads a policy file's text without letting the path do anything a policy file
/// would not: `create` and `agent run` run as root, so a path could otherwise name
/// /etc/shadow, a FIFO that blocks the open forever, or a device that never ends.
///
/// - O_NONBLOCK: opening a FIFO returns at once (and is then refused: not a regular
///   file) instead of waiting for a writer;
/// - O_NOFOLLOW when asked (names from an annotation): a link planted in the policy
///   directory is refused, not followed;
/// - a regular file only, at most `sizeLimit` bytes;
/// - errors name the path and the problem, never the file's text.
public enum PolicyFile {
    public static let sizeLimit = 1 << 20

    /// Reads `path` (relative to `directory` when given, which must then hold it).
    public static func read(_ path: String, in directory: FileDescriptor? = nil, followLinks: Bool, shownAs name: String) throws -> String {
        var flags = O_RDONLY | O_NONBLOCK | O_NOCTTY
        if !followLinks { flags |= O_NOFOLLOW }
        let fd: FileDescriptor
        do {
            fd = try directory.map { try $0.openAt(path, flags) } ?? FileDescriptor.open(path, flags)
        } catch let e as SystemError {
            if e.errno == ELOOP && !followLinks {
                throw PolicyError("policy \(name): is a symbolic link (a policy named by an annotation is opened without following links)")
            }
            throw PolicyError("policy \(name): \(SystemError.message(for: e.errno))")
        }
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else { throw PolicyError("policy \(name): fstat: \(SystemError.message(for: errno))") }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw PolicyError("policy \(name): is not a regular file (a \(kind(st.st_mode)))")
        }
        guard st.st_size <= sizeLimit else {
            throw PolicyError("policy \(name): is larger than the \(sizeLimit >> 20) MiB a policy may be")
        }
        let bytes: [UInt8]
        do { bytes = try fd.readAll(limit: sizeLimit) } catch let e as SystemError {
            // EFBIG: the file grew past the limit while being read.
            throw PolicyError("policy \(name): read: \(e.errno == EFBIG ? "larger than the limit" : SystemError.message(for: e.errno))")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "directory"
        case S_IFIFO: return "FIFO"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFSOCK: return "socket"
        case S_IFLNK: return "symbolic link"
        default: return "special file"
        }
    }
}
