import AuditChain
import Foundation

/// What `audit verify` says of a whole log: its chain and MACs (AuditVerifier), its
/// head (AuditHead: was it cut?) and its close records (did every sandbox in it end?),
/// with what each check can and cannot prove.
public struct AuditVerdict {
    /// Why the log fails, naming the line ("line 7: ...") or the head; nil when it passes.
    public var failure: String?
    /// The one-line summary of a log that passes ("intact, closed, 8 records, ...").
    public var summary = ""
    /// What the checks did not prove, one sentence each.
    public var notes: [String] = []

    /// Checks the log at `path` whose bytes are `bytes` and its head as read with them,
    /// under the log's lock (an append in between would make a head ahead of the bytes).
    public init(log path: String, bytes: [UInt8], head headRead: Result<AuditHead?, AuditError>, key: AuditKey?) {
        failure = judge(log: path, bytes: bytes, head: headRead, key: key)
    }

    /// The checks, filling in the summary and notes; why the log fails, or nil.
    private mutating func judge(log path: String, bytes: [UInt8], head headRead: Result<AuditHead?, AuditError>, key: AuditKey?) -> String? {
        let r = AuditVerifier.verify(bytes, key: key)
        if let f = r.failure {
            return "line \(f.line): \(f.reason)"
        }
        let headPath = AuditHead.path(ofLog: path)
        let head: AuditHead?
        switch headRead {
        case .success(let h): head = h
        case .failure(let error): return "\(error)"
        }
        var parts: [String]
        if r.closed {
            parts = ["intact", "closed", "\(r.count) records"]
        } else {
            let who = r.openIds.isEmpty ? "no sandbox has recorded anything yet" : "not closed: " + r.openIds.joined(separator: ", ")
            parts = ["open", "\(r.count) records", "intact so far (\(who))"]
            notes.append("open: a sandbox still running has no close record yet; one that ended without its delete (killed, or deleted by another runtime) has none either")
        }
        if key != nil { parts.append("MACs verified") }
        if r.macsUnchecked { notes.append("the log carries MACs; without --key only the chain was checked") }
        guard r.sealed else {
            if head != nil {
                return "\(headPath) exists, but the log's open record does not say it keeps a head (the log was replaced by another)"
            }
            parts.append("tail unproven")
            notes.append("no head (a log from before heads were kept): records cut from its end at a line boundary would not show")
            summary = parts.joined(separator: ", ")
            return nil
        }
        guard let head else {
            return "\(headPath) is missing: the log keeps a head, and without it a cut cannot be told from an end"
        }
        guard head.logId == r.logId else {
            return "\(headPath): the head of another log (logId \(head.logId), the log's is \(r.logId ?? "none"))"
        }
        if let key {
            guard head.macMatches(key) else {
                return head.mac == nil ? "\(headPath): no mac, but a key was given (the head was rewritten without the key)"
                    : "\(headPath): mac does not match (the head was edited, or MACed with another key)"
            }
        }
        let count = UInt64(r.count)
        guard head.count >= 1, head.count <= count else {
            return "cut: the head says \(head.count) records, the log has \(r.count) (records were removed from its end)"
        }
        guard r.hashes[Int(head.count) - 1] == head.last else {
            return "line \(head.count): not the line the head names as the log's last (the log was cut and re-grown, or the head is stale)"
        }
        if head.count < count {
            notes.append("\(count - head.count) record(s) past the head: a writer stopped between its append and the head's update; they are chained\(key != nil ? " and MACed" : "")")
        }
        if key != nil {
            parts.append("head verified")
        } else {
            parts.append("head matches")
            notes.append("without --key the head is only a checksum: whoever can write the log can cut its end and rewrite the head to match; with the key a cut shows")
        }
        summary = parts.joined(separator: ", ")
        return nil
    }

    /// The same with the head read now (for a log no one is appending to).
    public init(log path: String, bytes: [UInt8], key: AuditKey?) {
        self.init(log: path, bytes: bytes, head: AuditHead.readResult(log: path), key: key)
    }
}

extension AuditHead {
    /// `read(log:)` as a Result.
    public static func readResult(log: String) -> Result<AuditHead?, AuditError> {
        do { return .success(try read(log: log)) } catch let e as AuditError { return .failure(e) } catch { return .failure(AuditError("\(error)")) }
    }
}
