import Crypto
import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// A sandbox's audit log: one JSON object per line, each carrying the SHA-256 of the
/// line before it, so that editing, removing, reordering or inserting a line breaks
/// the chain (`AuditVerifier`). With a key, every line also carries an HMAC-SHA-256 of
/// itself, so whoever can write the file still cannot forge a valid chain.
///
/// A line, with keys always in this order (the verifier relies on the layout only for
/// the MAC, which covers the line without its `"mac"` member):
///
///     {"seq":1,"time":"2026-11-29T08:05:42.123456789Z","id":"agent-1","kind":"create","details":{...},"prev":"<64 hex>","mac":"<64 hex>"}
///
/// The first line (seq 0, kind `open`) opens the log with a random log id.
public struct AuditLog {
    /// The default directory of per-sandbox logs (`<id>.audit.jsonl`).
    public static let defaultDirectory = "/var/log/safehouse"
    /// The `prev` of the first line.
    public static let genesis = String(repeating: "0", count: 64)

    public let path: String
    public let key: SymmetricKey?

    public init(path: String, key: SymmetricKey? = nil) {
        self.path = path
        self.key = key
    }

    /// The default log of a sandbox.
    public static func defaultPath(id: String) -> String {
        defaultDirectory + "/" + id + ".audit.jsonl"
    }

    /// Reads an HMAC key file: its bytes, at least 16, trailing newline kept (a key is
    /// bytes, not text).
    public static func readKey(_ path: String) throws -> SymmetricKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AuditError("key \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = try readAll(fd, path: path)
        guard bytes.count >= 16 else { throw AuditError("key \(path): \(bytes.count) bytes; a key needs at least 16") }
        return SymmetricKey(data: bytes)
    }

    /// Appends one record; returns its sequence number. The line is one write(2) to a
    /// file opened O_APPEND, under an exclusive flock, so concurrent writers (the CLI,
    /// hooks, the warden) never interleave and each sees the line before its own. A
    /// torn last line (a writer died mid-line) is an error: it is reported, never
    /// completed or overwritten.
    @discardableResult
    public func append(id: String, kind: String, details: [String: Any] = [:]) throws -> UInt64 {
        try append(id: id, records: [(kind, details)])
    }

    /// Appends several records of one sandbox in one write (what happened at the end
    /// of a run: exit, delete, limits, changes); returns the last one's sequence number.
    @discardableResult
    ///
    /// `lockedFD`: the log, opened O_APPEND and already under the exclusive flock by
    /// the caller's parent (the runtime hands the lock to this process and does not
    /// wait: see AuditSink in the safehouse executable). Closing it releases the lock.
    public func append(id: String, records: [(kind: String, details: [String: Any])], lockedFD: Int32? = nil) throws -> UInt64 {
        try append(id: id, canonicalDetails: records.map { (kind: $0.kind, details: try JSONText.object($0.details)) }, lockedFD: lockedFD)
    }

    /// The same with each record's details as JSON object text (what `audit append`
    /// receives): re-written canonical (CanonicalJSON) without a round trip through
    /// JSONSerialization, which would cost this one-shot process most of its time.
    @discardableResult
    public func append(id: String, detailTexts records: [(kind: String, details: String)], lockedFD: Int32? = nil) throws -> UInt64 {
        try append(id: id, canonicalDetails: try records.map { r in
            guard let canonical = CanonicalJSON.object(Array(r.details.utf8)) else {
                throw AuditError("details of \(r.kind): not a JSON object: \(r.details)")
            }
            return (kind: r.kind, details: canonical)
        }, lockedFD: lockedFD)
    }

    /// The same with details already canonical (CanonicalJSON.object's or
    /// JSONText.object's output), written as they are: `audit append` checks and
    /// canonicalises its --details once, for its own error message, and passes them here.
    @discardableResult
    public func append(id: String, canonicalDetails records: [(kind: String, details: String)], lockedFD: Int32? = nil) throws -> UInt64 {
        guard !records.isEmpty else { throw AuditError("\(path): no record to append") }
        let fd: Int32
        if let lockedFD {
            fd = lockedFD
        } else {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try Self.makeDirectories(dir) }
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw AuditError("\(path): \(String(cString: strerror(errno)))") }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else { close(fd); throw AuditError("\(path): flock: \(String(cString: strerror(errno)))") }
            }
        }
        defer { close(fd) }
        defer { _ = flock(fd, LOCK_UN) }
        let last = try Self.lastLine(path: path)
        var text = ""
        var prev: String, seq: UInt64
        switch last {
        case .empty:
            let open = line(seq: 0, id: id, kind: "open",
                            details: "{\"logId\":\"\(Self.randomHex(16))\",\"mac\":\(key != nil)}", prev: Self.genesis)
            text = open + "\n"
            prev = Self.sha256Hex(open)
            seq = 1
        case .torn(let number):
            throw AuditError("\(path): line \(number) is torn (no newline at its end): not appending; `safehouse audit verify` reports it")
        case .line(let bytes, _):
            // Only its sequence number is needed (FlatJSONObject: no JSONSerialization).
            guard let previous = FlatJSONObject(parsing: bytes), let last = previous.uint64("seq"),
                  previous.string("prev") != nil, previous.string("kind") != nil else {
                throw AuditError("\(path): the last line is not an audit record: not appending")
            }
            prev = Self.sha256Hex(bytes)
            seq = last + 1
        }
        for (i, record) in records.enumerated() {
            if i > 0 { seq += 1 }
            let next = line(seq: seq, id: id, kind: record.kind, details: record.details, prev: prev)
            text += next + "\n"
            prev = Self.sha256Hex(next)
        }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            throw AuditError("\(path): write: \(n < 0 ? String(cString: strerror(errno)) : "short write (\(n) of \(bytes.count) bytes)")")
        }
        return seq
    }

    /// One line, without its newline.
    func line(seq: UInt64, id: String, kind: String, details: String, prev: String) -> String {
        let body = "{\"seq\":\(seq),\"time\":\"\(Self.timestamp())\",\"id\":\(JSONText.quoted(id)),"
            + "\"kind\":\(JSONText.quoted(kind)),\"details\":\(details),\"prev\":\"\(prev)\"}"
        guard let key else { return body }
        return String(body.dropLast()) + ",\"mac\":\"\(Self.hmacHex(body, key: key))\"}"
    }

    // MARK: helpers

    public static func sha256Hex<B: Sequence>(_ bytes: B) -> String where B.Element == UInt8 {
        hex(SHA256.hash(data: Array(bytes)))
    }
    public static func sha256Hex(_ text: String) -> String { sha256Hex(Array(text.utf8)) }

    public static func hmacHex(_ text: String, key: SymmetricKey) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func randomHex(_ count: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return hex((0..<count).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    /// RFC 3339, UTC, nanoseconds: 2026-11-29T08:05:42.123456789Z.
    public static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(Int(tm.tm_year) + 1900, 4))-\(pad(Int(tm.tm_mon) + 1, 2))-\(pad(Int(tm.tm_mday), 2))T"
            + "\(pad(Int(tm.tm_hour), 2)):\(pad(Int(tm.tm_min), 2)):\(pad(Int(tm.tm_sec), 2)).\(pad(Int(ts.tv_nsec), 9))Z"
    }

    enum LastLine { case empty, torn(Int), line([UInt8], Int) }

    /// The file's last line (without its newline), read backwards from the end.
    static func lastLine(path: String) throws -> LastLine {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AuditError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return .empty }
        var tail: [UInt8] = []
        var offset = size
        var chunk = 4096
        // Read until the newline before the last line is in hand (or the start).
        while true {
            let start = max(0, offset - off_t(chunk))
            var buf = [UInt8](repeating: 0, count: Int(offset - start))
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, start) }
            guard n == buf.count else { throw AuditError("\(path): read: short read") }
            tail = buf + tail
            offset = start
            if tail.last != UInt8(ascii: "\n") {
                // Torn: count lines to name it.
                let all = try readAll(fd, path: path)
                return .torn(all.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count)
            }
            if tail.dropLast().contains(UInt8(ascii: "\n")) || offset == 0 { break }
            chunk *= 2
        }
        let body = tail.dropLast()
        let line = body.lastIndex(of: UInt8(ascii: "\n")).map { Array(body[(body.index(after: $0))...]) } ?? Array(body)
        return .line(line, 0)
    }

    static func readAll(_ fd: Int32, path: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AuditError("\(path): read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return out }
            out += buf[0..<n]
            offset += off_t(n)
        }
    }

    static func makeDirectories(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) == 0 { return }
        let parent = (dir as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != dir { try makeDirectories(parent) }
        if mkdir(dir, 0o750) != 0, errno != EEXIST {
            throw AuditError("mkdir \(dir): \(String(cString: strerror(errno)))")
        }
    }
}

/// What went wrong with an audit log, in one line.
public struct AuditError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Compact JSON text with sorted keys (the same details always make the same bytes).
enum JSONText {
    /// A JSON string literal: the one quoting the runtime's state files use.
    static func quoted(_ s: String) -> String { FlatJSONWriter.quoted(s) }

    /// Details through JSONSerialization (sorted keys, compact: never a newline).
    static func object(_ o: [String: Any]) throws -> String {
        guard JSONSerialization.isValidJSONObject(o) else { throw AuditError("details are not JSON: \(o)") }
        let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
