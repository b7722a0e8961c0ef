import AuditChain
import Foundation
import OCI

/// One parsed line of an audit log.
public struct AuditRecord {
    public var seq: UInt64
    public var time: String
    public var id: String
    public var kind: String
    public var details: [String: Any]
    public var prev: String
    public var mac: String?

    /// Nil when the line is not a JSON object with the record's members.
    public init?(line: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let seq = (object["seq"] as? NSNumber)?.uint64Value ?? (object["seq"] as? Int).map(UInt64.init),
              let time = object["time"] as? String, let id = object["id"] as? String,
              let kind = object["kind"] as? String, let details = object["details"] as? [String: Any],
              let prev = object["prev"] as? String
        else { return nil }
        self.seq = seq
        self.time = time
        self.id = id
        self.kind = kind
        self.details = details
        self.prev = prev
        self.mac = object["mac"] as? String
    }

    /// `key=value` pairs of the details, for `audit show --format text`.
    public var detailsText: String {
        details.keys.sorted().map { key in
            let v = details[key]!
            let text: String
            // Hosts, paths and reasons come from the sandbox: a value with a control
            // character is quoted (JSON escapes), never printed raw to a terminal.
            if let s = v as? String { text = Self.isBare(s) ? s : Self.terminalSafe(FlatJSONWriter.quoted(s)) }
            else if JSONSerialization.isValidJSONObject([v]),
                    let d = try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys, .withoutEscapingSlashes]) {
                text = Self.terminalSafe(String(String(decoding: d, as: UTF8.self).dropFirst().dropLast()))
            } else { text = Self.terminalSafe("\(v)") }
            return Self.terminalSafe(key) + "=" + text
        }.joined(separator: " ")
    }

    /// Text that can be printed as is: not empty, no space, quote or control character.
    static func isBare(_ s: String) -> Bool {
        !s.isEmpty && !s.unicodeScalars.contains { $0 == " " || $0 == "\"" || isControl($0) }
    }

    static func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || (c.value >= 0x7F && c.value <= 0x9F) }

    /// `text` with every control character (C0, DEL, C1; JSON quoting leaves the last
    /// two alone) written as a \u escape, so no line of `audit show` drives a terminal.
    public static func terminalSafe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for c in text.unicodeScalars {
            if isControl(c) {
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// Checks a log's chain (and MACs, given the key).
public enum AuditVerifier {
    public struct Result {
        /// Records checked (the `open` line included).
        public var count: Int
        /// The first bad line (1-based) and why; nil when intact.
        public var failure: (line: Int, reason: String)?
        /// The log was opened with MACs but no key was given: they were not checked.
        public var macsUnchecked: Bool
        /// The open record says the log keeps a head (AuditHead), and its logId.
        public var sealed = false
        public var logId: String?
        /// The SHA-256 of every line, in order (what a head is checked against).
        public var hashes: [String] = []
        /// Sandboxes whose last record is not their close record, in order of first
        /// appearance (the open record's own id aside).
        public var openIds: [String] = []
        /// Whether the log has records past its open record and every sandbox in it is closed.
        public var closed: Bool { openIds.isEmpty && count > 1 }
    }

    public static func verify(_ bytes: [UInt8], key: AuditKey? = nil) -> Result {
        var result = Result(count: 0, failure: nil, macsUnchecked: false)
        func failed(_ line: Int, _ reason: String) -> Result {
            result.failure = (line, reason)
            return result
        }
        if bytes.isEmpty { return failed(1, "empty log (no open record)") }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        let torn = bytes.last != UInt8(ascii: "\n")
        if !torn { lines.removeLast() }
        var prevHash = AuditLog.genesis
        var macLog = false
        // Each sandbox's close record (its line) while it is that sandbox's last.
        var closedAt: [String: Int] = [:]
        var seen: [String] = []
        for (i, line) in lines.enumerated() {
            let n = i + 1
            if torn && n == lines.count { return failed(n, "torn: no newline at its end (a writer stopped mid-line)") }
            guard let record = AuditRecord(line: line) else {
                return failed(n, "not an audit record (not JSON, or a member missing)")
            }
            if record.seq != UInt64(i) {
                return failed(n, "sequence number \(record.seq), expected \(i) (a line was removed, inserted or reordered)")
            }
            if i == 0 {
                guard record.kind == "open" else {
                    return failed(n, "the first line is \"\(record.kind)\", not the log's open record")
                }
                macLog = (record.details["mac"] as? Bool) ?? ((record.details["mac"] as? NSNumber)?.boolValue ?? false)
                result.sealed = (record.details["head"] as? Bool) ?? ((record.details["head"] as? NSNumber)?.boolValue ?? false)
                result.logId = record.details["logId"] as? String
            } else {
                if let closeLine = closedAt[record.id], record.kind != "create" {
                    return failed(n, "a \(record.kind) record of sandbox \(record.id) after its close record (line \(closeLine)): nothing may follow a close")
                }
                if !seen.contains(record.id) { seen.append(record.id) }
                closedAt[record.id] = record.kind == "close" ? n : nil
            }
            if record.prev != prevHash {
                return failed(n, i == 0 ? "the open record's prev is not the genesis hash"
                    : "prev is not the SHA-256 of line \(n - 1) (line \(n - 1) was edited, or a line removed or inserted)")
            }
            if let key {
                guard let mac = record.mac else {
                    return failed(n, "no mac, but a key was given (the log was re-chained without the key, or never MACed)")
                }
                // The MAC covers the line without its trailing ,"mac":"..." member.
                let text = String(decoding: line, as: UTF8.self)
                let suffix = ",\"mac\":\"\(mac)\"}"
                guard text.hasSuffix(suffix), constantTimeEqual(Array(AuditLog.hmacHex(String(text.dropLast(suffix.count)) + "}", key: key).utf8), Array(mac.utf8)) else {
                    return failed(n, "mac does not match (the line was edited, or MACed with another key)")
                }
            } else if record.mac != nil || macLog {
                result.macsUnchecked = true
            }
            prevHash = AuditLog.sha256Hex(line)
            result.hashes.append(prevHash)
            result.count += 1
        }
        result.openIds = seen.filter { closedAt[$0] == nil }
        return result
    }
}
