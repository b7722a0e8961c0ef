import Egress
import Linux
import NIOCore
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// One egress decision, as one JSON line of `<state dir>/egress.jsonl`: allowed or
/// denied, what was asked for, the address checked and used, the bytes each way and
/// how long the connection lasted. A stable schema; the rule that decided is named.
struct EgressRecord {
    var decision = "denied"
    var method = ""
    var host = ""
    var port: UInt16 = 0
    var address: String?
    var rule: String?
    var reason: String?
    /// Set when the decider was asked: `allow`, `deny`, or `error` (no answer).
    var decider: String?
    /// The secrets put into the request (their variables' names).
    var secrets: [String] = []
    /// `terminated`: the proxy ended the client's TLS and made its own to the server
    /// (a secret's host); nil: a tunnel, or plain HTTP.
    var tls: String?
    var bytesUp: UInt64 = 0
    var bytesDown: UInt64 = 0
    var milliseconds: UInt64 = 0

    var jsonLine: String {
        var s = "{\"decision\":\(Self.quote(decision)),\"method\":\(Self.quote(method)),\"host\":\(Self.quote(host)),\"port\":\(port)"
        if let address { s += ",\"address\":\(Self.quote(address))" }
        if let rule { s += ",\"rule\":\(Self.quote(rule))" }
        if let reason { s += ",\"reason\":\(Self.quote(reason))" }
        if let decider { s += ",\"decider\":\(Self.quote(decider))" }
        if !secrets.isEmpty { s += ",\"secrets\":[\(secrets.map(Self.quote).joined(separator: ","))]" }
        if let tls { s += ",\"tls\":\(Self.quote(tls))" }
        s += ",\"bytesUp\":\(bytesUp),\"bytesDown\":\(bytesDown),\"durationMs\":\(milliseconds)}\n"
        return s
    }

    static func quote(_ text: String) -> String { FlatJSONWriter.quoted(text) }

    /// Notes the decider's verdict on `destination:port`: the rule a yes stands for
    /// (that host and port alone; its addresses are still checked as any rule's), or
    /// the refusal, with the decider's reason. Port 0 is a name lookup: a yes stands
    /// for the host on every port.
    mutating func decided(by verdict: DeciderVerdict, _ destination: Allowlist.Destination, port: UInt16) -> Result<AllowRule, EgressDenial> {
        decider = verdict.allowed ? "allow" : verdict.answered ? "deny" : "error"
        let said = verdict.reason.isEmpty ? "" : ": \(verdict.reason)"
        let what = port == 0 ? "\(destination)" : "\(destination) port \(port)"
        guard verdict.allowed else {
            return .failure(EgressDenial(verdict.answered ? "\(what) was refused by the decider\(said)"
                                                          : "\(what) matches no rule and the decider did not answer: \(verdict.reason)"))
        }
        guard let rule = try? AllowRule(port == 0 ? "\(destination)" : "\(destination):\(port)") else {
            return .failure(EgressDenial("\(what): the decider's yes makes no rule"))
        }
        self.rule = "decider"
        reason = "allowed by the decider\(said)"
        return .success(rule)
    }
}

/// Appends egress records: to `<state dir>/egress.jsonl` at once (small O_APPEND
/// writes on the proxy's one event loop thread: a record is one write(2), whole, in
/// order; `agent run`'s summary reads it), and to the sandbox's audit log through the
/// AuditAppender (off the event loop, capped).
final class EgressAuditLog: @unchecked Sendable {
    let file: Linux.FileDescriptor?
    let appender: AuditAppender?
    /// Decisions so far, by outcome (the control channel's `stats`).
    var allowed: UInt64 = 0
    var denied: UInt64 = 0
    var failed: UInt64 = 0

    init(path: String?, appender: AuditAppender? = nil) throws {
        file = try path.map { try Linux.FileDescriptor.open($0, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600) }
        self.appender = appender
    }

    /// Appends `record` of what lasted since `started`.
    func append(_ record: EgressRecord, since started: NIODeadline) {
        var record = record
        record.milliseconds = UInt64(max(0, (NIODeadline.now() - started).nanoseconds / 1_000_000))
        switch record.decision {
        case "allowed": allowed += 1
        case "failed": failed += 1
        default: denied += 1
        }
        let line = record.jsonLine
        try? file?.write(line)
        appender?.recordDecision(String(line.dropLast()))
    }
}
