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
    public let key: AuditKey?

    public init(path: String, key: AuditKey? = nil) {
        self.path = path
        self.key = key
    }

    /// The default log of a sandbox.
    public static func defaultPath(id: String) -> String {
        defaultDirectory + "/" + id + ".audit.jsonl"
    }

    /// Reads an HMAC key file: its bytes, at least 16, trailing newline kept (a key is
    /// bytes, not text).
    public static func readKey(_ path: String) throws -> AuditKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AuditError("key \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = try readAll(fd, path: path)
        guard bytes.count >= 16 else { throw AuditError("key \(path): \(bytes.count) bytes; a key needs at least 16") }
        return AuditKey(bytes: bytes)
    }

    /// The same with each record's details as JSON object text (what `audit append`
    /// receives): re-written canonical (CanonicalJSON) without a round trip through
    /// JSONSerialization, which would cost this one-shot process most of its time.
    /// `lockedFD`: the log, opened O_APPEND and already under the exclusive flock by
    /// the caller (the runtime takes the lock before it hands the append to a child,
    /// so its records keep their order: see AuditSink in the safehouse executable).
    /// Closing it releases the lock.
    @discardableResult
    public func append(id: String, detailTexts records: [(kind: String, details: String)], lockedFD: Int32? = nil) throws -> UInt64 {
        try append(id: id, canonicalDetails: try records.map { r in
            guard let canonical = CanonicalJSON.object(Array(r.details.utf8)) else {
                throw AuditError("details of \(r.kind): not a JSON object: \(r.details)")
            }
            return (kind: r.kind, details: canonical)
        }, lockedFD: lockedFD)
    }

    /// The same with details already canonical (CanonicalJSON.object's output, or
    /// JSONSerialization's in AuditLog+Details), written as they are: `audit append` checks and
    /// canonicalises its --details once, for its own error message, and passes them here.
    @discardableResult
    public func append(id: String, canonicalDetails records: [(kind: String, details: String)], lockedFD: Int32? = nil) throws -> UInt64 {
        guard !records.isEmpty else { throw AuditError("\(path): no record to append") }
        let fd: Int32
        if let lockedFD {
            fd = lockedFD
        } else {
            let dir = Self.parentDirectory(of: path)
            if !dir.isEmpty { try Self.makeDirectories(dir) }
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw AuditError("\(path): \(String(cString: strerror(errno)))") }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else { close(fd); throw AuditError("\(path): flock: \(String(cString: strerror(errno)))") }
            }
        }
        defer { close(fd) }
        // A lock handed over is the caller's: it may hold it past this append through
        // another descriptor of the same open file (the emergency stop's reservation),
        // and an unlock would drop it for all of them. Closing ours is enough.
        defer { if lockedFD == nil { _ = flock(fd, LOCK_UN) } }
        let existing = AuditLogLines(bytes: try Self.readAll(path: path) ?? [])
        var text = ""
        var prev: String, seq: UInt64
        var logId: String?
        var closedAt: UInt64?
        if let tail = try tail(of: existing, appending: true) {
            logId = tail.logId
            prev = Self.sha256Hex(tail.line)
            seq = tail.seq + 1
            closedAt = Self.closeLine(of: id, in: existing)
        } else {
            let newId = Self.randomHex(16)
            let open = line(seq: 0, id: id, kind: "open",
                            details: "{\"head\":true,\"logId\":\"\(newId)\",\"mac\":\(key != nil)}", prev: Self.genesis)
            text = open + "\n"
            prev = Self.sha256Hex(open)
            seq = 1
            logId = newId
        }
        // A sandbox's close record is its last: anything after it (a late writer, or
        // someone re-opening the record of a sandbox that is gone) is refused, until a
        // new sandbox of the same id starts with its own create record.
        for (i, record) in records.enumerated() {
            if let line = closedAt, record.kind != "create" {
                throw AuditError("\(path): sandbox \(id) is closed (its close record is line \(line)): a \(record.kind) record after close is refused")
            }
            if i > 0 { seq += 1 }
            if record.kind == "create" { closedAt = nil }
            if record.kind == "close" { closedAt = seq + 1 }
            let next = line(seq: seq, id: id, kind: record.kind, details: record.details, prev: prev)
            text += next + "\n"
            prev = Self.sha256Hex(next)
        }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            throw AuditError("\(path): write: \(n < 0 ? String(cString: strerror(errno)) : "short write (\(n) of \(bytes.count) bytes)")")
        }
        if let logId {
            // The log's data first, then the head: after a crash the head is behind the
            // log (tolerated: see AuditHead), never ahead of it (which reads as a cut).
            guard fdatasync(fd) == 0 else { throw AuditError("\(path): fdatasync: \(String(cString: strerror(errno)))") }
            try AuditHead(logId: logId, count: seq + 1, last: prev).write(log: path, key: key)
        }
        return seq
    }

    /// Whether a record of sandbox `id` could be appended now, without writing one:
    /// every check `append` makes (torn, not a record, head missing, forged, of another
    /// log or ahead of the log, the sandbox closed unless `kind` is create), under a
    /// shared lock. What the runtime asks before it makes a sandbox whose log has a
    /// MACed head (it cannot check the MAC itself).
    public func checkAppendable(id: String, kind: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT, (try AuditHead.read(log: path)) == nil { return }
            throw AuditError("\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_SH) != 0 {
            guard errno == EINTR else { throw AuditError("\(path): flock: \(String(cString: strerror(errno)))") }
        }
        let existing = AuditLogLines(bytes: try Self.readAll(fd, path: path))
        guard try tail(of: existing, appending: false) != nil else { return }
        if kind != "create", let line = Self.closeLine(of: id, in: existing) {
            throw AuditError("\(path): sandbox \(id) is closed (its close record is line \(line)): a \(kind) record after close is refused")
        }
    }

    /// The checks of the log's lines before an append: not emptied under its head (a
    /// log whose head survives it was cut, not a new log), not torn, its last line a
    /// record, and its head (checkHead). The last line, its sequence number and the
    /// log's id when it keeps a head; nil for an empty log. `appending`: an append's
    /// words (": not appending"), and its last line must also have a prev and a kind.
    func tail(of existing: AuditLogLines, appending: Bool) throws -> (line: [UInt8], seq: UInt64, logId: String?)? {
        let refusal = appending ? ": not appending; `safehouse audit verify` reports it" : ""
        if existing.bytes.isEmpty {
            if let head = try AuditHead.read(log: path) {
                throw AuditError("\(path): cut: empty, but its head (\(AuditHead.path(ofLog: path))) says \(head.count) records (a log moved away takes its .head with it)\(refusal)")
            }
            return nil
        }
        guard existing.bytes.last == UInt8(ascii: "\n") else {
            let number = existing.bytes.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            throw AuditError("\(path): line \(number) is torn (no newline at its end)\(refusal)")
        }
        // Only its sequence number is needed (FlatJSONObject: no JSONSerialization).
        var fromTheEnd = existing.backwards()
        let lastLine = Array(fromTheEnd.next() ?? [])
        guard let last = FlatJSONObject(parsing: lastLine), let seq = last.uint64("seq"),
              !appending || (last.string("prev") != nil && last.string("kind") != nil) else {
            throw AuditError("\(path): the last line is not an audit record\(appending ? ": not appending" : "")")
        }
        let logId = Self.sealedLogId(openLine: Array(existing.first))
        if let logId { try checkHead(logId: logId, lines: existing, lastSeq: seq) }
        return (lastLine, seq, logId)
    }

    /// The logId of a log that keeps a head (its open record says `"head":true`); nil
    /// for a log from before heads, which is appended to as it was.
    static func sealedLogId(openLine: [UInt8]) -> String? {
        let prefix = Array("{\"seq\":0,".utf8)
        let marker = Array(",\"kind\":\"open\",\"details\":{\"head\":true,\"logId\":\"".utf8)
        guard openLine.starts(with: prefix), let at = openLine.firstRange(of: marker) else { return nil }
        let id = openLine[at.upperBound...].prefix(32)
        let hexDigit: (UInt8) -> Bool = { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
        guard id.count == 32, id.allSatisfy(hexDigit) else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    /// Refuses to append to a log that no longer ends where its head says it did: the
    /// next head written would otherwise make the cut look like the end.
    func checkHead(logId: String, lines: AuditLogLines, lastSeq: UInt64) throws {
        let headPath = AuditHead.path(ofLog: path)
        guard let head = try AuditHead.read(log: path) else {
            throw AuditError("\(path): its head \(headPath) is missing (the log keeps one; without it a cut cannot be told from an end): not appending")
        }
        guard head.logId == logId else { throw AuditError("\(headPath): the head of another log (logId \(head.logId)): not appending") }
        if let key {
            guard head.macMatches(key) else { throw AuditError("\(headPath): mac does not match (edited, or MACed with another key): not appending") }
        } else if head.mac != nil {
            throw AuditError("\(headPath): the head is MACed: appending needs the log's key")
        }
        // The last line's seq counts the records (verify checks every seq in turn).
        let count = lastSeq + 1
        guard head.count <= count, head.count > 0 else {
            throw AuditError("\(path): cut: its head says \(head.count) records, the log has \(count): not appending; `safehouse audit verify` reports it")
        }
        // Behind only after a crash between an append and its head: a batch at most.
        let named = lines.backwards().dropFirst(Int(count - head.count)).first { _ in true }
        guard let named, Self.sha256Hex(named) == head.last else {
            throw AuditError("\(path): line \(head.count) is not the last line its head names (the log was cut and re-grown, or edited): not appending")
        }
    }

    /// The line (1-based) of `id`'s close record when it is that sandbox's last record.
    static func closeLine(of id: String, in lines: AuditLogLines) -> UInt64? {
        let quotedId = Array(FlatJSONWriter.quoted(id).utf8)
        let close = Array("\"close\"".utf8)
        for line in lines.backwards() {
            guard let header = AuditLogLines.header(line), header.seq != 0 else { continue }
            if header.id == quotedId { return header.kind == close ? header.seq + 1 : nil }
        }
        return nil
    }

    /// One line, without its newline.
    func line(seq: UInt64, id: String, kind: String, details: String, prev: String) -> String {
        let body = "{\"seq\":\(seq),\"time\":\"\(Self.timestamp())\",\"id\":\(FlatJSONWriter.quoted(id)),"
            + "\"kind\":\(FlatJSONWriter.quoted(kind)),\"details\":\(details),\"prev\":\"\(prev)\"}"
        guard let key else { return body }
        return String(body.dropLast()) + ",\"mac\":\"\(Self.hmacHex(body, key: key))\"}"
    }

    // MARK: helpers

    public static func sha256Hex<B: Sequence>(_ bytes: B) -> String where B.Element == UInt8 {
        hex(SHA256Digest.hash(bytes))
    }
    public static func sha256Hex(_ text: String) -> String { sha256Hex(Array(text.utf8)) }

    public static func hmacHex(_ text: String, key: AuditKey) -> String {
        hex(key.authenticationCode(for: Array(text.utf8)))
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

    /// The whole file at `path` (opened with `flags` too); nil when it does not exist.
    static func readAll(path: String, flags: Int32 = 0) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | flags)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw AuditError("\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        return try readAll(fd, path: path)
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

    /// `path` without its last component ("" for a bare name), as
    /// NSString.deletingLastPathComponent gives it.
    static func parentDirectory(of path: String) -> String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        while parts.count > 1, parts.last == "" { parts.removeLast() }
        guard parts.count > 1 else { return path.hasPrefix("/") ? "/" : "" }
        parts.removeLast()
        let joined = parts.joined(separator: "/")
        return joined.isEmpty ? "/" : joined
    }

    static func makeDirectories(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) == 0 { return }
        let parent = Self.parentDirectory(of: dir)
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
