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
/// It is rewritten after every append, under the log's exclusive flock, after the
/// log's own data is synced: a crash between the two leaves the head *behind* the
/// log, never ahead of it. So a log longer than its head is the
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
        "{\"logId\":\(FlatJSONWriter.quoted(logId)),\"count\":\(count),\"last\":\(FlatJSONWriter.quoted(last))}"
    }

    /// The file's text, MACed with `key` when there is one.
    func text(key: AuditKey?) -> String {
        guard let key else { return body + "\n" }
        return String(body.dropLast()) + ",\"mac\":\"\(AuditLog.hmacHex(body, key: key))\"}\n"
    }

    /// Whether the head's MAC is the one `key` makes.
    public func macMatches(_ key: AuditKey) -> Bool {
        guard let mac else { return false }
        return constantTimeEqual(Array(AuditLog.hmacHex(body, key: key).utf8), Array(mac.utf8))
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
        guard let bytes = try AuditLog.readAll(path: path, flags: O_NOFOLLOW) else { return nil }
        guard let head = AuditHead(parsing: bytes) else { throw AuditError("\(path): not an audit head") }
        return head
    }

    /// Writes the head beside `log`. Readers read it under the log's shared flock and
    /// writers hold the exclusive one, so no reader sees a head half written.
    ///
    /// The first head is made whole (temp file, fsync, rename): a log whose open record
    /// promises a head must never be left with an empty one. Later heads overwrite it in
    /// place, unsynced: the log's records were synced before, so whatever a crash leaves
    /// of the head is one behind the log (tolerated, as above) or the new one; the
    /// head's text only grows (its count's digits), so nothing is left past its end.
    /// That keeps the append an `agent run` waits for at one disk sync, not two plus a
    /// new inode and a rename.
    func write(log: String, key: AuditKey?) throws {
        let path = Self.path(ofLog: log)
        let bytes = Array(text(key: key).utf8)
        // O_NONBLOCK: a FIFO planted as the head must not hang the append.
        let existing = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        if existing >= 0 {
            defer { close(existing) }
            var st = stat()
            guard fstat(existing, &st) == 0 else { throw AuditError("\(path): fstat: \(String(cString: strerror(errno)))") }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw AuditError("\(path): not a regular file") }
            let n = bytes.withUnsafeBytes { pwrite(existing, $0.baseAddress, $0.count, 0) }
            guard n == bytes.count else {
                throw AuditError("\(path): \(n < 0 ? String(cString: strerror(errno)) : "short write")")
            }
            // A head that shrank (a MAC dropped by a new key setting): cut what is left.
            if Int(st.st_size) > bytes.count, ftruncate(existing, off_t(bytes.count)) != 0 {
                throw AuditError("\(path): ftruncate: \(String(cString: strerror(errno)))")
            }
            return
        }
        guard errno == ENOENT else { throw AuditError("\(path): \(String(cString: strerror(errno)))") }
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw AuditError("\(temporary): \(String(cString: strerror(errno)))") }
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
