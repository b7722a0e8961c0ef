import Egress
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// One client connection of the egress proxy, from its request head to the end of
/// the relay. Every outcome ends in exactly one audit record.
final class EgressConnection: EgressClient, ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        if let refusal = countIn() { return refuse(context, status: 503, reason: refusal) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch state {
        case .head(var bytes):
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
            switch ProxyRequest.parse(bytes) {
            case .needMoreBytes: state = .head(bytes)
            case .invalid(let status, let reason): refuse(context, status: status, reason: reason)
            case .request(let request): handle(context, request, rest: Array(bytes[request.headLength...]))
            }
        case .clientHello(let destination, let address, var bytes):
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
            checkClientHello(context, destination, address, bytes)
        case .resolving(var pending):
            pending += buffer.readBytes(length: buffer.readableBytes) ?? []
            state = .resolving(pending)
        case .connecting(var pending):
            pending += buffer.readBytes(length: buffer.readableBytes) ?? []
            state = .connecting(pending)
        case .relaying, .terminated: passUp(context, buffer)
        default: break
        }
    }

    /// Decides on a parsed request: admit, resolve, check, then tunnel or forward.
    func handle(_ context: ChannelHandlerContext, _ request: ProxyRequest, rest: [UInt8]) {
        record.method = request.method
        record.host = request.host
        record.port = request.port
        guard let destination = Allowlist.Destination(host: request.host) else {
            return refuse(context, status: 400, reason: "\"\(request.host)\" is not a host name or address")
        }
        judge(context, destination, port: request.port, pending: rest,
              refused: { self.refuse(context, status: 403, reason: $0) }) { rule, rest in
            self.admitted(context, request, destination, rule: rule, rest: rest)
        }
    }

    /// A request some rule (or the decider) admitted: resolve, check, then go on.
    func admitted(_ context: ChannelHandlerContext, _ request: ProxyRequest, _ destination: Allowlist.Destination,
                  rule: AllowRule, rest: [UInt8]) {
        record.rule = record.rule ?? rule.text
        state = .resolving(rest)
        lookUp(destination, context).whenComplete { result in
            guard case .resolving(let rest) = self.state else { return }
            self.resolved(context, request, destination, rule: rule, candidates: (try? result.get()) ?? [], rest: rest)
        }
    }

    /// Checks the looked-up addresses, then tunnels or forwards.
    func resolved(_ context: ChannelHandlerContext, _ request: ProxyRequest, _ destination: Allowlist.Destination, rule: AllowRule,
                  candidates: [IPAddress], rest: [UInt8]) {
        // Only checked addresses, in the resolver's order: no second lookup.
        let address: [IPAddress]
        switch shared.allowlist.check(addresses: candidates, for: destination, rule: rule) {
        case .failure(let denial): return refuse(context, status: 403, reason: denial.description)
        case .success(let checked): address = checked
        }
        record.address = address[0].description
        switch request.kind {
        case .connect:
            state = .clientHello(destination, address, [])
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 Connection established\r\n\r\n")), promise: nil)
            if !rest.isEmpty { checkClientHello(context, destination, address, rest) }
        case .forward(let original, let bodyLength):
            let body = Array(rest.prefix(Int(clamping: bodyLength)))
            // Secrets go in here, for their hosts only; a placeholder bound elsewhere
            // is refused. The record names the secret, never its value.
            switch SecretInjection.apply(head: original, body: body, to: destination, secrets: shared.configuration.secrets) {
            case .failure(let denial): refuse(context, status: 403, reason: denial.description)
            case .success(let injected):
                if !injected.injected.isEmpty { record.secrets = injected.injected }
                if body.count < rest.count { record.reason = "bytes after the request were dropped" }
                connect(context, to: address, port: request.port, first: injected.head + body,
                        upstreamLeft: bodyLength - UInt64(body.count))
            }
        }
    }

    /// A tunnel carries TLS whose server name is the host the CONNECT named: an allowed
    /// name cannot front for another (the server would pick its site by the SNI).
    func checkClientHello(_ context: ChannelHandlerContext, _ destination: Allowlist.Destination, _ address: [IPAddress], _ bytes: [UInt8]) {
        switch ClientHello.parse(bytes) {
        case .needMoreBytes:
            if bytes.count > ClientHello.maximumLength { return cut(context, "ClientHello too large") }
            state = .clientHello(destination, address, bytes)
        case .notTLS(let why):
            cut(context, "tunnel to \(destination) is not TLS: \(why)")
        case .serverName(let name):
            switch destination {
            case .name(let host):
                // Without a server name the server picks the site (its default one, or
                // the one an inner Host asks for): a tunnel to a name must name it.
                guard let name else { return cut(context, "TLS ClientHello names no server (SNI); a tunnel to \(host) must name it") }
                if name != host { return cut(context, "TLS server name \(name) does not match CONNECT host \(host)") }
                if terminate(context, serverName: host, addresses: address, port: record.port, hello: bytes,
                             failed: { cut(context, $0) }) { return }
            case .address:
                // A tunnel to a literal address has no name to send (RFC 6066 3 forbids
                // addresses there), but may name a server: one the allowlist admits on
                // this port too.
                if let name, case .denied = shared.allowlist.admit(.name(name), port: record.port) {
                    return cut(context, "TLS server name \(name) is not allowed")
                }
            }
            connect(context, to: address, port: record.port, first: bytes, upstreamLeft: nil)
        }
    }

    func connect(_ context: ChannelHandlerContext, to candidates: [IPAddress], port: UInt16, first: [UInt8], upstreamLeft: UInt64?) {
        dial(context, to: candidates, port: port, first: first, bodyLeft: upstreamLeft, unmapped: false) { reason, _ in
            self.refuse(context, status: 502, reason: reason)
        }
    }

    /// No byte either way for the idle timeout (IdleStateHandler): end it.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            switch state {
            case .relaying(let peer): peer.close(mode: .output, promise: nil)
            case .connecting, .resolving: break  // passed on once connected
            case .terminated: context.fireUserInboundEventTriggered(event)
            default: context.close(promise: nil)
            }
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            if case .head = state { return refuse(context, status: 408, reason: "idle timeout") }
            return cut(context, "idle timeout")
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client's last bytes reach the server before the server's side closes.
        switch state {
        case .relaying(let peer): EgressPeer.closeAfterPendingWrites(peer)
        case .connecting, .resolving:
            record.decision = "failed"
            record.reason = record.reason ?? "the client left while the proxy was connecting"
        default: break
        }
        state = .done
        finish()
        context.fireChannelInactive()
    }

    /// Answers a refusal (one line naming the rule or the reason) and closes.
    func refuse(_ context: ChannelHandlerContext, status: Int, reason: String) {
        if record.decision != "failed" { record.decision = "denied" }
        record.reason = reason
        state = .done
        let text = EgressRefusal.response(status: status, reason: reason)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
