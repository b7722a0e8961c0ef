import Egress
import NIOCore

/// The SOCKS5 handshake of an EgressTunnel (RFC 1928, parsed by Egress/Socks5): the
/// greeting, the CONNECT request, the lookup and the checks, the reply; then the
/// tunnel relays as for a captured connection.
extension EgressTunnel {
    func socksGreeting(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        switch Socks5.parseGreeting(bytes) {
        case .needMoreBytes:
            guard bytes.count < 258 else { return deny(context, "SOCKS greeting too long") }
            state = .socksGreeting(bytes)
        case .invalid(let why): deny(context, why)
        case .methods(let methods, let length):
            let answer = Socks5.choose(methods)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: answer)), promise: nil)
            guard answer[1] == Socks5.noAuthentication else { return deny(context, "the client offers no SOCKS method without authentication") }
            state = .socksRequest([])
            socksReplyOwed = true
            socksRequest(context, Array(bytes[length...]))
        }
    }

    func socksRequest(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        switch Socks5.parseRequest(bytes) {
        case .needMoreBytes:
            guard bytes.count < 262 else { return deny(context, "SOCKS request too long", socks: .generalFailure) }
            state = .socksRequest(bytes)
        case .invalid(let why, let reply): deny(context, why, socks: reply)
        case .unsupported(let command): deny(context, "SOCKS command \(command) is not supported (CONNECT only)", socks: .commandNotSupported)
        case .connect(let host, let port, let length):
            record.host = host
            record.port = port
            guard let destination = Allowlist.Destination(host: host) else {
                return deny(context, "\"\(host)\" is not a host name or address", socks: .hostUnreachable)
            }
            let rest = Array(bytes[length...])
            state = .resolving(rest)
            judge(context, destination, port: port, pending: rest,
                  refused: { self.deny(context, $0, socks: .notAllowed) }) { rule, _ in
                self.socksAdmitted(context, destination, rule: rule, port: port)
            }
        }
    }

    /// A SOCKS destination some rule (or the decider) admitted: resolve, then check.
    func socksAdmitted(_ context: ChannelHandlerContext, _ destination: Allowlist.Destination, rule: AllowRule, port: UInt16) {
        record.rule = record.rule ?? rule.text
        lookUp(destination, context).whenComplete { result in
            guard case .resolving(let rest) = self.state else { return }
            self.socksResolved(context, destination, rule: rule, port: port, candidates: (try? result.get()) ?? [], rest: rest)
        }
    }

    func socksResolved(_ context: ChannelHandlerContext, _ destination: Allowlist.Destination, rule: AllowRule, port: UInt16,
                       candidates: [IPAddress], rest: [UInt8]) {
        switch shared.allowlist.check(addresses: candidates, for: destination, rule: rule) {
        case .failure(let denial): return deny(context, denial.description, socks: candidates.isEmpty ? .hostUnreachable : .notAllowed)
        case .success(let addresses):
            socksTarget = (destination, addresses)
            record.address = addresses[0].description
        }
        // Answered before connecting: the first bytes of ports 80 and 443 must be
        // read (and checked) before anything reaches the server, and a client sends
        // them only after this reply.
        socksReplyOwed = false
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: Socks5.reply(.succeeded))), promise: nil)
        if ClaimedName.sniffs(port: port) {
            state = .sniffing([])
            sniff(context, rest)
        } else {
            connect(context, to: socksTarget?.addresses ?? [], port: port, first: rest)
        }
    }
}
