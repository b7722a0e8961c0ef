import Crypto
import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// A log's head: how many records it holds and the SHA-256 of its last line, MACed
/// with the log's key, kept beside it (`<log>.head`). The chain alone proves that no
/// line was changed, removed or reordered *before* the last one; cutting whole lines
/// off the end leaves a shorter chain that is just as intact. The head is what says
/// where the end was, so `verify` can tell a log that ended from one that was cut.
///
/// It is rewritten (temp file, fsync, rename) after every append, under the log's
/// exclusive flock, after the log's own data is synced: a crash between the two leaves
/// the head *behind* the log, never ahead of it. So a log longer than its head is the
/// trace of a crashed writer (the records past the head are still chained and MACed),
/// and a log shorter than its head, or whose line at the head's count is not the
/// one the head names, was cut. Every appender checks the head before it writes, so
/// a cut log is never papered over by the next append re-writing the head.
///
///     {"logId":"<32 hex>","count":7,"last":"<64 hex>","mac":"<64 hex>"}
public struct AuditHead: Equatable, Sendable {
    /// The log's id (its open record's logId): a head copied from another log does not fit.
    public var logId: String
    /// Records in the log, the open record included.
    public var count: UInt64
    /// The SHA-256 of the last line (without its newline).
    public var last: String
    /// HMAC-SHA-256 of the head without its mac, when the log has a key.
    public var mac: String?

    public init(logId: String, count: UInt64, last: String, mac: String? = nil) {
        self.logId = logId
        self.count = count
        self.last = last
        self.mac = mac
    }

    /// Where the head of the log at `log` lives.
    public static func path(ofLog log: String) -> String { log + ".head" }

    /// The text the MAC covers.
    var body: String {
        "{\"logId\":\(JSONText.quoted(logId)),\"count\":\(count),\"last\":\(JSONText.quoted(last))}"
    }

    /// The file's text, MACed with `key` when there is one.
    func text(key: SymmetricKey?) -> String {
        guard let key else { return body + "\n" }
        return String(body.dropLast()) + ",\"mac\":\"\(AuditLog.hmacHex(body, key: key))\"}\n"
    }

    /// Whether the head's MAC is the one `key` makes.
    public func macMatches(_ key: SymmetricKey) -> Bool {
        guard let mac else { return false }
        return AuditLog.hmacHex(body, key: key) == mac
    }

    /// Parses a head file's bytes; nil when they are not a head.
    public init?(parsing bytes: [UInt8]) {
        var b = bytes
        if b.last == UInt8(ascii: "\n") { b.removeLast() }
        guard let o = FlatJSONObject(parsing: b), let logId = o.string("logId"), let count = o.uint64("count"),
              let last = o.string("last"), last.utf8.count == 64 else { return nil }
        self.init(logId: logId, count: count, last: last, mac: o.string("mac"))
    }

    /// The head beside `log`: nil when there is none; an error when it cannot be read
    /// or is not a head.
    public static func read(log: String) throws -> AuditHead? {
        let path = Self.path(ofLog: log)
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw AuditError("\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = try AuditLog.readAll(fd, path: path)
        guard let head = AuditHead(parsing: bytes) else { throw AuditError("\(path): not an audit head") }
        return head
    }

    /// Replaces the head beside `log` atomically: a reader sees the old head or the new
    /// one, never a mix, and after a crash the file holds one of the two.
    func write(log: String, key: SymmetricKey?) throws {
        let path = Self.path(ofLog: log)
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw AuditError("\(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text(key: key).utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let written = n == bytes.count
        let writeErrno = errno
        let synced = written && fsync(fd) == 0
        let syncErrno = errno
        close(fd)
        guard written, synced else {
            unlink(temporary)
            let why = !written ? (n < 0 ? String(cString: strerror(writeErrno)) : "short write") : "fsync: " + String(cString: strerror(syncErrno))
            throw AuditError("\(path): \(why)")
        }
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw AuditError("\(path): rename: \(why)")
        }
    }
}
