import Egress
import Linux
import NIOCore
import NIOPosix
import OCI
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// One client of the warden's control channel (`<state dir>/egress.sock`, the protocol
/// in SandboxInterface's EgressControl): reads request lines, applies them to the
/// sandbox's rule book on the proxy's event loop (the one thread that judges
/// connections, so a change is seen by the next connection and by no connection
/// already decided), and answers each with one line.
final class EgressControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let shared: EgressShared
    var pending: [UInt8] = []
    /// Who is on the other end, by the kernel's word (SO_PEERCRED), read at accept.
    var peer: (uid: UInt32, pid: Int32, command: String)?

    init(shared: EgressShared) { self.shared = shared }

    func channelActive(context: ChannelHandlerContext) {
        if let provider = context.channel as? SocketOptionProvider {
            provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
                .assumeIsolated().whenSuccess { (credentials: PeerCredentials) in
                    self.peer = (credentials.uid, credentials.pid, Self.commandLine(of: credentials.pid))
                }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[..<end])
            pending.removeFirst(end + 1)
            let answer = self.answer(line)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer.line + "\n")), promise: nil)
        }
        if pending.count > EgressControl.maximumRequestLength {
            let answer = EgressControl.Answer(error: "a request line is longer than \(EgressControl.maximumRequestLength) bytes")
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer.line + "\n"))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            pending = []
        }
    }

    func answer(_ line: [UInt8]) -> EgressControl.Answer {
        let request: EgressControl.Request
        do { request = try EgressControl.Request(line: line) } catch { return EgressControl.Answer(error: "\(error)") }
        var answer = EgressControl.Answer()
        switch request.operation {
        case .rules: answer.rules = shared.currentRules
        case .stats: answer.stats = shared.stats
        case .allow, .deny:
            var rules: [AllowRule] = []
            for text in request.rules {
                // Every rule is checked before any applies: a bad one changes nothing.
                do { rules.append(try AllowRule(text)) } catch {
                    let problem = "\(error)", prefix = "network.allow: "
                    return EgressControl.Answer(error: problem.hasPrefix(prefix) ? "rule " + problem.dropFirst(prefix.count) : problem)
                }
            }
            let who = peer ?? (uid: UInt32.max, pid: 0, command: "")
            var source = "uid \(who.uid) pid \(who.pid)" + (who.command.isEmpty ? "" : ": \(who.command)")
            if let relayed = request.onBehalfOf { source += " for \(relayed)" }
            let changes = shared.change(request.operation, rules, source: source)
            shared.audit.appender?.record(kind: "egress-rules",
                                          details: Self.auditDetails(request.operation, changes, who, onBehalfOf: request.onBehalfOf))
            answer.changes = changes.map(\.description)
            answer.rules = shared.currentRules
        }
        return answer
    }

    /// The `egress-rules` record: the request, what it changed, and who asked (the
    /// kernel's word on the asker, and whom a relay such as the service asked for).
    static func auditDetails(_ operation: EgressControl.Operation, _ changes: [EgressRuleBook.Change],
                             _ who: (uid: UInt32, pid: Int32, command: String), onBehalfOf: String? = nil) -> String {
        let q = FlatJSONWriter.quoted
        let relayed = onBehalfOf.map { ",\"onBehalfOf\":\(q($0))" } ?? ""
        let by = "{\"uid\":\(who.uid),\"pid\":\(who.pid),\"command\":\(q(who.command))\(relayed)}"
        return "{\"op\":\(q(operation.rawValue)),\"changes\":[\(changes.map { q($0.description) }.joined(separator: ","))],\"by\":\(by)}"
    }

    /// The pid's command line, arguments joined by spaces (at most 1000 bytes; empty
    /// when the process is gone). Read as the request comes in, while the asker waits.
    static func commandLine(of pid: Int32) -> String {
        guard pid > 0, let fd = try? FileDescriptor.open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC) else { return "" }
        defer { fd.close() }
        let bytes = ((try? fd.readAll(limit: 1 << 20)) ?? []).prefix(1000)
        let words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var line = words.joined(separator: " ")
        while line.last == " " { line.removeLast() }
        return line
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Linux's `struct ucred` (SO_PEERCRED), which Glibc's module leaves out (it is
/// behind _GNU_SOURCE): the same three fields in the same order.
struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
