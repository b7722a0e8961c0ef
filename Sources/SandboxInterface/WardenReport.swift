import Linux
import OCI

/// What a warden leaves in its sandbox's state directory when the watch ends
/// (`warden.json`): written by the warden, read by `agent run`'s summary and by
/// `delete` (which puts it on the audit record as it is, a `warden` record's
/// `report`). One type, one codec: `document` and `init?(document:)`.
public struct WardenReport: Equatable, Sendable {
    public static let fileName = "warden.json"

    /// Why the watch ended.
    public enum Reason: String, Sendable {
        /// The init exited by itself.
        case exited
        /// The wall-clock deadline passed.
        case timeout
        /// SIGTERM (or INT, HUP): the emergency stop.
        case stopped
        /// The process that ran it in the foreground died first (a SIGKILL, an OOM
        /// kill of `agent run`): nobody is left to end it, read its change set or
        /// remove it. Fail closed, as when the warden itself dies: stop it, and hand
        /// its removal to `safehouse delete --force` (Abandonment).
        case abandoned
    }

    public var reason: Reason
    public var oomKills: UInt64 = 0
    /// Forks refused at the pids limit.
    public var pidsLimitHits: UInt64 = 0
    public var timeoutMilliseconds: UInt64?
    /// DNS queries refused as exfiltration-shaped (transparent egress only).
    public var dnsSuspicious: Int?
    /// The byte quota (network.maxBytes) spent: a limit hit (connections were cut).
    public var egressQuotaSpent = false
    /// The init's exit (recordExit), or why it is unknown.
    public var exit: ExitStatus?
    public var exitUnknown: String?
    /// The warden wrote the `exit` audit record: `delete` writes it only when it did not.
    public var exitRecorded = false
    /// Egress decisions past the audit log's limit, not on the record.
    public var egressDropped = 0
    /// The first append to the audit log that failed.
    public var auditFailure: String?

    public init(reason: Reason) { self.reason = reason }

    /// One line of flat JSON, keys in this order (the audit log's `warden` records
    /// carry it verbatim).
    public var document: String {
        var w = FlatJSONWriter()
        w.add("reason", reason.rawValue)
        w.add("oomKills", oomKills)
        w.add("pidsLimitHits", pidsLimitHits)
        if let t = timeoutMilliseconds { w.add("timeoutMilliseconds", t) }
        if let n = dnsSuspicious { w.add("dnsSuspicious", Int64(n)) }
        if egressQuotaSpent { w.add("egressQuotaSpent", true) }
        switch exit {
        case .exited(let code)?: w.add("exitCode", Int64(code))
        case .signaled(let signal)?:
            w.add("exitCode", Int64(128 + signal))
            w.add("exitSignal", Int64(signal))
        case nil: break
        }
        if let exitUnknown { w.add("exitUnknown", exitUnknown) }
        if exitRecorded { w.add("exitRecorded", true) }
        if egressDropped > 0 { w.add("egressDropped", Int64(egressDropped)) }
        if let auditFailure { w.add("auditFailure", auditFailure) }
        return w.string + "\n"
    }

    /// Nil when `bytes` are not a report (no object, or no known reason).
    public init?(document bytes: [UInt8]) {
        guard let o = FlatJSONObject(parsing: bytes), let reason = o.string("reason").flatMap(Reason.init) else { return nil }
        self.reason = reason
        oomKills = o.uint64("oomKills") ?? 0
        pidsLimitHits = o.uint64("pidsLimitHits") ?? 0
        timeoutMilliseconds = o.uint64("timeoutMilliseconds")
        dnsSuspicious = o.int64("dnsSuspicious").map { Int($0) }
        egressQuotaSpent = o.bool("egressQuotaSpent") == true
        if let signal = o.int64("exitSignal") {
            exit = .signaled(Int32(truncatingIfNeeded: signal))
        } else if let code = o.int64("exitCode") {
            exit = .exited(Int32(truncatingIfNeeded: code))
        }
        exitUnknown = o.string("exitUnknown")
        exitRecorded = o.bool("exitRecorded") == true
        egressDropped = o.int64("egressDropped").map { Int($0) } ?? 0
        auditFailure = o.string("auditFailure")
    }

    /// Writes the report into the state directory `directory`.
    public func write(stateDirectory directory: String) throws {
        try Files.writeAtomically(directory + "/" + Self.fileName, Array(document.utf8), mode: 0o644)
    }

    /// The report file in `directory`: its text as written (nil: no file) and the
    /// report it holds (nil: not a report).
    public static func read(stateDirectory directory: String) -> (report: WardenReport?, text: String)? {
        guard let bytes = try? Files.read(directory + "/" + fileName, limit: 1 << 16) else { return nil }
        return (WardenReport(document: bytes), String(decoding: bytes, as: UTF8.self))
    }
}
