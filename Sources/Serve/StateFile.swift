import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The service's own files about live sandboxes (a bundle's config.json, a record, the
/// deadline beside it): written through a temporary file and a rename, so a reader or
/// a service killed half-way sees the old content or the new, never a torn one; and
/// never fsync'd. Foundation's `Data.write` and `String.write(atomically:)` fsync every
/// file: on this shared disk one fsync of a 15 KB config.json took 30 to 66 ms, on the
/// path of every create. A flush protects against a power loss or a kernel crash only,
/// and after either no sandbox these files describe is running any more: a record that
/// was lost or left stale then is one `recover()` removes anyway.
enum StateFile {
    static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws {
        // A name of its own: two writers of one path (a timeout set during a pause) never
        // share a temporary file.
        let temp = path + ".tmp-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw APIError.internalError("open \(temp): \(String(cString: strerror(errno)))") }
        var written = 0
        let failure: Int32? = data.withUnsafeBytes { raw -> Int32? in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += n
            }
            return nil
        }
        close(fd)
        if let failure {
            unlink(temp)
            throw APIError.internalError("write \(temp): \(String(cString: strerror(failure)))")
        }
        guard rename(temp, path) == 0 else {
            let e = errno
            unlink(temp)
            throw APIError.internalError("rename \(temp): \(String(cString: strerror(e)))")
        }
    }
}
