import Egress
import NIOCore
import NIOPosix

/// What the client side's handlers (the proxy's EgressConnection, EgressTunnel for
/// captured and SOCKS connections) share: the connection's one audit record, its place
/// under the connection limit, and the byte counts and quota. A relay (EgressPeer, and
/// SecretRelay for a terminated connection) counts its bytes through it.
class EgressClient {
    enum State {
        /// The proxy: reading the request head.
        case head([UInt8])
        /// The proxy: CONNECT answered; reading the TLS ClientHello to check its server name.
        case clientHello(Allowlist.Destination, [IPAddress], [UInt8])
        /// Captured: reading the original destination; bytes that arrive wait here.
        case findingDestination([UInt8])
        case socksGreeting([UInt8])
        case socksRequest([UInt8])
        /// Reading the client's first bytes for the name they claim (ports 80, 443).
        case sniffing([UInt8])
        /// Waiting for a name lookup or the decider (off the event loop); bytes that
        /// arrive wait here.
        case resolving([UInt8])
        /// Captured TCP to port 53: answered here, query by query (RFC 7766 framing),
        /// as the sandbox's resolver answers UDP; nothing is relayed.
        case dnsOverTCP([UInt8])
        /// Connecting to the checked address; bytes that arrive wait here.
        case connecting([UInt8])
        case relaying(Channel)
        /// The TLS of a secret's host is terminated here: the client's bytes go on to
        /// the TLS server handler and SecretRelay after this one (EgressTermination).
        case terminated
        case done
    }

    let shared: EgressShared
    var state: State
    var record = EgressRecord()
    var started = NIODeadline.now()
    var recorded = false
    var counted = false
    /// The client has shut down its sending side.
    var inputClosed = false
    /// DNS over TCP: every query is its own record, the connection none.
    var recordsItself = false

    /// A plain HTTP request: how many more client bytes (its body) may go upstream.
    var upstreamLeft: UInt64?

    init(shared: EgressShared, state: State = .head([])) {
        self.shared = shared
        self.state = state
    }

    /// Counts the connection in as it starts; nil, or past the limit why it is refused.
    func countIn() -> String? {
        started = .now()
        let limit = shared.configuration.maximumConnections
        if shared.connections >= limit { return "too many connections (limit \(limit))" }
        shared.connections += 1
        counted = true
        return nil
    }

    /// Counts `n` bytes on their way to the server; false once the quota is spent.
    func countUp(_ n: Int) -> Bool {
        record.bytesUp += UInt64(n)
        shared.bytesUp += UInt64(n)
        return !shared.quotaSpent
    }

    /// Counts `n` bytes on their way to the client; false once the quota is spent,
    /// noted in the record as what cuts the connection.
    func countDown(_ n: Int) -> Bool {
        record.bytesDown += UInt64(n)
        shared.bytesDown += UInt64(n)
        if shared.quotaSpent { record.reason = "byte quota spent" }
        return !shared.quotaSpent
    }

    /// Client bytes once the connection is decided: to the server, or on to the TLS
    /// termination.
    func passUp(_ context: ChannelHandlerContext, _ buffer: ByteBuffer) {
        var buffer = buffer
        switch state {
        case .relaying(let peer):
            if upstreamLeft != nil {
                let kept = upstream(buffer.readBytes(length: buffer.readableBytes) ?? [])
                if kept.isEmpty { return }
                buffer = ByteBuffer(bytes: kept)
            }
            if !countUp(buffer.readableBytes) { return cut(context, "byte quota spent") }
            peer.writeAndFlush(buffer, promise: nil)
            if !peer.isWritable { context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
        case .terminated:
            if !countUp(buffer.readableBytes) { return cut(context, "byte quota spent") }
            context.fireChannelRead(NIOAny(buffer))
        default: break
        }
    }

    /// The part of `bytes` that may go upstream: all of it, except after a plain HTTP
    /// request's body, where what follows would be a second request whose Host was
    /// never checked. Dropped, and noted.
    func upstream(_ bytes: [UInt8]) -> [UInt8] {
        guard let left = upstreamLeft else { return bytes }
        let n = min(UInt64(bytes.count), left)
        if n < UInt64(bytes.count) { record.reason = "bytes after the request were dropped" }
        upstreamLeft = left - n
        return Array(bytes.prefix(Int(n)))
    }

    /// A ClientHello for a secret's host: its TLS is terminated here (EgressTermination),
    /// or the connection ended by `failed` when no certificate can be made; false: not
    /// such a host, tunnel it.
    func terminate(_ context: ChannelHandlerContext, serverName: String, addresses: [IPAddress], port: UInt16, hello: [UInt8],
                   failed: (String) -> Void) -> Bool {
        guard let termination = shared.termination, termination.terminates(serverName) else { return false }
        record.address = addresses.first?.description
        do {
            state = .terminated
            try termination.handOff(context, owner: self, serverName: serverName, addresses: addresses, port: port, hello: hello)
        } catch {
            failed("no certificate for \(serverName): \(error)")
        }
        return true
    }

    /// Judges `destination` on `port` by the allowlist, or, when no rule covers it, by
    /// the decider (off the event loop; the client's bytes wait in `.resolving`): then
    /// `admitted` with the rule and the bytes that came meanwhile, or `refused` with why.
    func judge(_ context: ChannelHandlerContext, _ destination: Allowlist.Destination, port: UInt16, pending: [UInt8],
               refused: @escaping (String) -> Void, admitted: @escaping (AllowRule, [UInt8]) -> Void) {
        let allowlist = shared.allowlist
        switch allowlist.admit(destination, port: port) {
        case .allowed(let rule): admitted(rule, pending)
        case .denied(let reason):
            guard let decider = shared.decider, !allowlist.covers(destination) else { return refused(reason) }
            ask(decider, context, destination, port: port, pending: pending, refused: refused, admitted: admitted)
        }
    }

    /// Asks `decider` about `destination` on `port`, off the event loop, the client's
    /// bytes waiting in `.resolving`: then `admitted` with the rule its yes stands for
    /// and the bytes that came meanwhile, or `refused` with why.
    func ask(_ decider: EgressDecider, _ context: ChannelHandlerContext, _ destination: Allowlist.Destination, port: UInt16,
             pending: [UInt8], refused: @escaping (String) -> Void, admitted: @escaping (AllowRule, [UInt8]) -> Void) {
        state = .resolving(pending)
        decider.decide(host: destination.description, port: port, on: context.eventLoop).assumeIsolated().whenSuccess { verdict in
            guard case .resolving(let pending) = self.state else { return }
            switch self.record.decided(by: verdict, destination, port: port) {
            case .failure(let denial): refused(denial.description)
            case .success(let rule): admitted(rule, pending)
            }
        }
    }

    /// Dials the first of `candidates` (the checked addresses of one destination; the
    /// next when one fails) and relays once connected, `first` and what came meanwhile
    /// going first. `bodyLeft`: a forward request's body still to come, which bytes that
    /// came while connecting count against. `unmapped`: an IPv4-mapped address is
    /// dialled as IPv4. `refuse` ends the connection with a reason and the SOCKS reply
    /// it calls for.
    func dial(_ context: ChannelHandlerContext, to candidates: [IPAddress], port: UInt16, first: [UInt8], bodyLeft: UInt64? = nil,
              unmapped: Bool, refuse: @escaping (String, Socks5.Reply) -> Void) {
        guard let address = candidates.first else { return refuse("no address to connect to", .hostUnreachable) }
        record.address = address.description
        // A retry keeps what arrived during the failed attempt.
        if case .connecting = state {} else { state = .connecting(first) }
        let dialled = unmapped ? address.unmappedV4 ?? address : address
        guard let socketAddress = try? SocketAddress(ipAddress: dialled.description, port: Int(port)) else {
            return refuse("bad address \(address)", .notAllowed)
        }
        let connected = EgressPeer.connect(on: context.eventLoop, to: socketAddress, front: context.channel, meter: self)
        connected.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let peer):
                guard case .connecting(var pending) = self.state else { peer.close(promise: nil); return }
                self.record.decision = "allowed"
                if let l = bodyLeft {
                    let extra = UInt64(pending.count - first.count)
                    let kept = min(extra, l)
                    if kept < extra { self.record.reason = "bytes after the request were dropped" }
                    pending.removeLast(Int(extra - kept))
                    self.upstreamLeft = l - kept
                }
                self.state = .relaying(peer)
                _ = self.countUp(pending.count)
                peer.writeAndFlush(ByteBuffer(bytes: pending), promise: nil)
                if self.inputClosed { peer.close(mode: .output, promise: nil) }
            case .failure(let error):
                guard case .connecting = self.state else { return }
                if candidates.count > 1 {
                    return self.dial(context, to: Array(candidates.dropFirst()), port: port, first: first, bodyLeft: bodyLeft,
                                     unmapped: unmapped, refuse: refuse)
                }
                self.record.decision = "failed"
                refuse("connecting to \(address) port \(port): \(error)", .connectionRefused)
            }
        }
    }

    /// A literal address at once; a name through the lookup thread (or the hosts mapping).
    func lookUp(_ destination: Allowlist.Destination, _ context: ChannelHandlerContext) -> EventLoopFuture<[IPAddress]>.Isolated {
        switch destination {
        case .address(let a): return context.eventLoop.makeSucceededFuture([a]).assumeIsolated()
        case .name(let n): return shared.resolve(n, on: context.eventLoop).assumeIsolated()
        }
    }

    /// Counts the connection out and writes its record, once.
    func finish() {
        guard !recorded else { return }
        recorded = true
        if counted { shared.connections -= 1 }
        if recordsItself { return }
        shared.audit.append(record, since: started)
    }

    /// Ends an allowed connection (quota, idle), or one that can no longer be answered
    /// (inside a tunnel): a plain close.
    func cut(_ context: ChannelHandlerContext, _ reason: String) {
        if record.decision != "allowed" { record.decision = "denied" }
        record.reason = reason
        if case .relaying(let peer) = state { peer.close(promise: nil) }
        state = .done
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .relaying(let peer) = state {
            peer.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
