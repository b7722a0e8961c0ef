import Egress
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// One client connection of the egress proxy, from its request head to the end of
/// the relay. Every outcome ends in exactly one audit record.
final class EgressConnection: ChannelInboundHandler, EgressRecording {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Reading the request head.
        case head([UInt8])
        /// Admitted; waiting for the name lookup (off the event loop). Bytes that
        /// arrive wait here.
        case resolving([UInt8])
        /// CONNECT answered; reading the TLS ClientHello to check its server name.
        case clientHello(Allowlist.Destination, [IPAddress], [UInt8])
        /// Connecting to the checked address; bytes that arrive wait here.
        case connecting([UInt8])
        /// Relaying; `upstreamLeft` is how many more client bytes may go to the server
        /// (nil: a tunnel, no limit; a forward request: what is left of its body).
        case relaying(Channel, upstreamLeft: UInt64?)
        /// The TLS of a secret's host is terminated here: the client's bytes go on to
        /// the TLS server handler and SecretRelay after this one (EgressTermination).
        case terminated
        case done
    }

    let shared: EgressShared
    var state: State = .head([])
    /// The client has shut down its sending side.
    var inputClosed = false
    var record = EgressRecord()
    var started = NIODeadline.now()
    var recorded = false
    var counted = false

    init(shared: EgressShared) { self.shared = shared }

    func channelActive(context: ChannelHandlerContext) {
        started = .now()
        if shared.connections >= shared.configuration.maximumConnections {
            refuse(context, status: 503, reason: "too many connections (limit \(shared.configuration.maximumConnections))")
            return
        }
        shared.connections += 1
        counted = true
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
        case .relaying(let peer, var left):
            if let l = left {
                // A forward request ends with its body: whatever follows would be a
                // second request whose Host was never checked. Dropped.
                let n = min(UInt64(buffer.readableBytes), l)
                if n < UInt64(buffer.readableBytes) { record.reason = "bytes after the request were dropped" }
                buffer = buffer.getSlice(at: buffer.readerIndex, length: Int(n)) ?? ByteBuffer()
                left = l - n
                state = .relaying(peer, upstreamLeft: left)
                if n == 0 { return }
            }
            record.bytesUp += UInt64(buffer.readableBytes)
            shared.bytesUp += UInt64(buffer.readableBytes)
            if shared.quotaSpent { return cut(context, "byte quota spent") }
            peer.writeAndFlush(buffer, promise: nil)
            if !peer.isWritable { context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
        case .terminated:
            record.bytesUp += UInt64(buffer.readableBytes)
            shared.bytesUp += UInt64(buffer.readableBytes)
            if shared.quotaSpent { return cut(context, "byte quota spent") }
            context.fireChannelRead(data)
        case .done: break
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
        let allowlist = shared.allowlist
        switch allowlist.admit(destination, port: request.port) {
        case .allowed(let rule): admitted(context, request, destination, rule: rule, rest: rest)
        case .denied(let reason):
            guard let decider = shared.decider, !allowlist.covers(destination) else {
                return refuse(context, status: 403, reason: reason)
            }
            // No rule covers it: the decider is asked (off the event loop); the
            // client's bytes wait meanwhile.
            state = .resolving(rest)
            decider.decide(host: destination.description, port: request.port, on: context.eventLoop).assumeIsolated().whenSuccess { verdict in
                guard case .resolving(let rest) = self.state else { return }
                switch self.record.decided(by: verdict, destination, port: request.port) {
                case .failure(let denial): self.refuse(context, status: 403, reason: denial.description)
                case .success(let rule): self.admitted(context, request, destination, rule: rule, rest: rest)
                }
            }
        }
    }

    /// A request some rule (or the decider) admitted: resolve, check, then go on.
    func admitted(_ context: ChannelHandlerContext, _ request: ProxyRequest, _ destination: Allowlist.Destination,
                  rule: AllowRule, rest: [UInt8]) {
        record.rule = record.rule ?? rule.text
        let lookup: EventLoopFuture<[IPAddress]>
        switch destination {
        case .address(let a): lookup = context.eventLoop.makeSucceededFuture([a])
        case .name(let n): lookup = shared.resolve(n, on: context.eventLoop)
        }
        state = .resolving(rest)
        lookup.assumeIsolated().whenComplete { result in
            guard case .resolving(let rest) = self.state else { return }
            self.resolved(context, request, destination, rule: rule, candidates: (try? result.get()) ?? [], rest: rest)
        }
    }

    /// Checks the looked-up addresses, then tunnels or forwards.
    func resolved(_ context: ChannelHandlerContext, _ request: ProxyRequest, _ destination: Allowlist.Destination, rule: AllowRule,
                  candidates: [IPAddress], rest: [UInt8]) {
        let allowlist = shared.allowlist
        let addresses: [IPAddress]
        switch allowlist.check(addresses: candidates, for: destination, rule: rule) {
        case .failure(let denial): return refuse(context, status: 403, reason: denial.description)
        case .success(let checked): addresses = checked
        }
        // Only checked addresses, in the resolver's order: no second lookup.
        let address = addresses
        record.address = addresses[0].description
        switch request.kind {
        case .connect:
            state = .clientHello(destination, address, [])
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 Connection established\r\n\r\n")), promise: nil)
            if !rest.isEmpty { checkClientHello(context, destination, address, rest) }
        case .forward(let original, let bodyLength):
            let body = Array(rest.prefix(Int(clamping: bodyLength)))
            // Secrets go in here, for their hosts only; a placeholder bound elsewhere
            // is refused. The record names the secret, never its value.
            let head: [UInt8]
            switch SecretInjection.apply(head: original, body: body, to: destination, secrets: shared.configuration.secrets) {
            case .failure(let denial): return refuse(context, status: 403, reason: denial.description)
            case .success(let injected):
                head = injected.head
                if !injected.injected.isEmpty { record.secrets = injected.injected }
            }
            if body.count < rest.count { record.reason = "bytes after the request were dropped" }
            connect(context, to: address, port: request.port, first: head + body,
                    upstreamLeft: bodyLength - UInt64(body.count))
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
            if case .name(let host) = destination, let name, name != host {
                return cut(context, "TLS server name \(name) does not match CONNECT host \(host)")
            }
            // Without a server name the server picks the site (its default one, or the
            // one an inner Host asks for): a tunnel to a name must name it. A tunnel to
            // a literal address has no name to send (RFC 6066 3 forbids addresses there).
            if case .name(let host) = destination, name == nil {
                return cut(context, "TLS ClientHello names no server (SNI); a tunnel to \(host) must name it")
            }
            if case .address = destination, let name {
                // A tunnel to a literal address may name a server; it must be one the
                // allowlist admits on this port too.
                if case .denied = shared.allowlist.admit(.name(name), port: record.port) {
                    return cut(context, "TLS server name \(name) is not allowed")
                }
            }
            if case .name(let host) = destination, let termination = shared.termination, termination.terminates(host) {
                do {
                    state = .terminated
                    try termination.handOff(context, owner: self, serverName: host, addresses: address,
                                            port: record.port, hello: bytes)
                } catch {
                    cut(context, "no certificate for \(host): \(error)")
                }
                return
            }
            connect(context, to: address, port: record.port, first: bytes, upstreamLeft: nil)
        }
    }

    func connect(_ context: ChannelHandlerContext, to candidates: [IPAddress], port: UInt16, first: [UInt8], upstreamLeft: UInt64?) {
        guard let address = candidates.first else { return refuse(context, status: 502, reason: "no address to connect to") }
        record.address = address.description
        // A retry keeps what arrived during the failed attempt.
        if case .connecting = state {} else { state = .connecting(first) }
        let front = context.channel
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(ipAddress: address.description, port: Int(port))
        } catch {
            return refuse(context, status: 502, reason: "bad address \(address)")
        }
        let shared = self.shared
        let connected = EgressPeer.connect(on: context.eventLoop, to: socketAddress, front: front, meter: self)
        connected.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let peer):
                guard case .connecting(var pending) = self.state else { peer.close(promise: nil); return }
                self.record.decision = "allowed"
                // Bytes that came while connecting count against the request's body too.
                var left = upstreamLeft
                if let l = left {
                    let extra = UInt64(pending.count - first.count)
                    let kept = min(extra, l)
                    if kept < extra { self.record.reason = "bytes after the request were dropped" }
                    pending.removeLast(Int(extra - kept))
                    left = l - kept
                }
                self.state = .relaying(peer, upstreamLeft: left)
                self.record.bytesUp += UInt64(pending.count)
                self.shared.bytesUp += UInt64(pending.count)
                peer.writeAndFlush(ByteBuffer(bytes: pending), promise: nil)
                if self.inputClosed { peer.close(mode: .output, promise: nil) }
            case .failure(let error):
                if case .connecting = self.state, candidates.count > 1 {
                    // The next checked address of the same name.
                    return self.connect(context, to: Array(candidates.dropFirst()), port: port, first: first, upstreamLeft: upstreamLeft)
                }
                if case .connecting = self.state {
                    self.record.decision = "failed"
                    self.refuse(context, status: 502, reason: "connecting to \(address) port \(port): \(error)")
                }
            }
        }
    }

    /// No byte either way for the idle timeout (IdleStateHandler): end it.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            switch state {
            case .relaying(let peer, _): peer.close(mode: .output, promise: nil)
            case .connecting, .resolving: break  // passed on once connected
            case .terminated: context.fireUserInboundEventTriggered(event)
            case .head, .clientHello, .done: context.close(promise: nil)
            }
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            if case .head = state { return refuse(context, status: 408, reason: "idle timeout") }
            return cut(context, "idle timeout")
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .relaying(let peer, _) = state {
            peer.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client's last bytes reach the server before the server's side closes.
        switch state {
        case .relaying(let peer, _): EgressPeer.closeAfterPendingWrites(peer)
        case .connecting, .resolving:
            record.decision = "failed"
            record.reason = record.reason ?? "the client left while the proxy was connecting"
        default: break
        }
        state = .done
        finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// Counts bytes from the origin server on their way to the client.
    func countDown(_ n: Int) -> Bool {
        record.bytesDown += UInt64(n)
        shared.bytesDown += UInt64(n)
        return !shared.quotaSpent
    }

    func quotaCut() { record.reason = "byte quota spent" }

    /// Answers a refusal (one line naming the rule or the reason) and closes.
    func refuse(_ context: ChannelHandlerContext, status: Int, reason: String) {
        if record.decision != "failed" { record.decision = "denied" }
        record.reason = reason
        state = .done
        let body = "safehouse egress: \(EgressRefusal.reasonPhrase(reason))\n"
        let text = EgressRefusal.statusLine(status: status, reason: reason)
            + "Content-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Ends a connection that can no longer be answered in HTTP (inside a tunnel).
    func cut(_ context: ChannelHandlerContext, _ reason: String) {
        if record.decision != "allowed" { record.decision = "denied" }
        record.reason = reason
        if case .relaying(let peer, _) = state { peer.close(promise: nil) }
        state = .done
        context.close(promise: nil)
    }

    func finish() {
        guard !recorded else { return }
        recorded = true
        if counted { shared.connections -= 1 }
        record.milliseconds = UInt64(max(0, (NIODeadline.now() - started).nanoseconds / 1_000_000))
        shared.audit.append(record)
    }
}
