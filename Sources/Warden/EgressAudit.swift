import Egress
import Linux
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
    var bytesUp: UInt64 = 0
    var bytesDown: UInt64 = 0
    var milliseconds: UInt64 = 0

    var jsonLine: String {
        var s = "{\"decision\":\(Self.quote(decision)),\"method\":\(Self.quote(method)),\"host\":\(Self.quote(host)),\"port\":\(port)"
        if let address { s += ",\"address\":\(Self.quote(address))" }
        if let rule { s += ",\"rule\":\(Self.quote(rule))" }
        if let reason { s += ",\"reason\":\(Self.quote(reason))" }
        s += ",\"bytesUp\":\(bytesUp),\"bytesDown\":\(bytesDown),\"durationMs\":\(milliseconds)}\n"
        return s
    }

    static func quote(_ text: String) -> String { FlatJSONWriter.quoted(text) }
}

/// Appends egress records: to `<state dir>/egress.jsonl` at once (small O_APPEND
/// writes on the proxy's one event loop thread: a record is one write(2), whole, in
/// order; `agent run`'s summary reads it), and to the sandbox's audit log through the
/// AuditAppender (off the event loop, capped).
final class EgressAuditLog: @unchecked Sendable {
    let file: FileDescriptor?
    let appender: AuditAppender?

    init(path: String?, appender: AuditAppender? = nil) throws {
        file = try path.map { try FileDescriptor.open($0, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600) }
        self.appender = appender
    }

    func append(_ record: EgressRecord) {
        let line = record.jsonLine
        try? file?.write(line)
        appender?.recordDecision(String(line.dropLast()))
    }
}
