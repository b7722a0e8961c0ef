import Egress
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// One connection that, once decided, is relayed byte for byte: a TCP connection the
/// transparent capture redirected here (its destination read back from conntrack), or
/// a SOCKS5 CONNECT. The decisions are the Egress target's (CapturedConnection,
/// ClaimedName, Allowlist); this handler only applies them. Every outcome ends in
/// exactly one record, as for the HTTP proxy.
final class EgressTunnel: EgressClient, ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Kind {
        /// Captured by the redirect to a capture listener.
        case captured
        case socks
    }

    let kind: Kind
    /// Captured: where the client was going.
    var original: OriginalDestination?
    /// SOCKS: the destination the client named and its checked addresses.
    var socksTarget: (destination: Allowlist.Destination, addresses: [IPAddress])?
    /// Captured: what the client left out that its protocol names the host by (no
    /// SNI, no Host), for CapturedConnection.decide.
    var unnamed: String?
    /// SOCKS: the request was read and its reply not yet sent (a refusal answers it).
    var socksReplyOwed = false
    /// DNS over TCP: the answers owed.
    var answersOwed = 0

    init(shared: EgressShared, kind: Kind) {
        self.kind = kind
        super.init(shared: shared, state: kind == .captured ? .findingDestination([]) : .socksGreeting([]))
        record.method = kind == .captured ? "TCP" : "SOCKS5"
    }

    func channelActive(context: ChannelHandlerContext) {
        if let refusal = countIn() { return deny(context, refusal, socks: .generalFailure) }
        // The listener's own port: a connection made straight to it was not captured.
        if case .captured = kind { findOriginalDestination(context, listenerPort: UInt16(context.channel.localAddress?.port ?? 0)) }
        context.fireChannelActive()
    }

    /// Reads SO_ORIGINAL_DST (IPv4) or IP6T_SO_ORIGINAL_DST (IPv6) from the accepted
    /// socket: conntrack's record of the destination before the redirect.
    func findOriginalDestination(_ context: ChannelHandlerContext, listenerPort: UInt16) {
        guard let provider = context.channel as? SocketOptionProvider else {
            return deny(context, "cannot read the original destination")
        }
        func read<Address: Sendable>(_ level: Int32, as _: Address.Type) -> EventLoopFuture<[UInt8]> {
            provider.unsafeGetSocketOption(level: SocketOptionLevel(level), name: SocketOptionName(OriginalDestination.socketOption))
                .map { (a: Address) in withUnsafeBytes(of: a) { Array($0) } }
        }
        let v6 = { if case .v6? = context.channel.localAddress { return true } else { return false } }()
        let bytes = v6 ? read(Int32(IPPROTO_IPV6), as: sockaddr_in6.self) : read(SOL_IP, as: sockaddr_in.self)
        bytes.assumeIsolated().whenComplete { result in
            guard case .findingDestination(let pending) = self.state else { return }
            guard case .success(let raw) = result, let destination = OriginalDestination(sockaddr: raw) else {
                return self.deny(context, "no original destination (not a captured connection)")
            }
            self.original = destination
            self.record.host = destination.address.description
            self.record.port = destination.port
            if destination.isCaptureListener(port: listenerPort) {
                return self.deny(context, "\(destination) is the capture listener itself")
            }
            if destination.port == 53 {
                self.recordsItself = true
                self.state = .dnsOverTCP([])
                return self.answerDNS(context, pending)
            }
            guard ClaimedName.sniffs(port: destination.port) else { return self.decideCaptured(context, claimed: nil, pending: pending) }
            self.state = .sniffing([])
            self.sniff(context, pending)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let bytes = { buffer.readBytes(length: buffer.readableBytes) ?? [] }
        switch state {
        case .findingDestination(let pending): state = .findingDestination(pending + bytes())
        case .socksGreeting(let pending): socksGreeting(context, pending + bytes())
        case .socksRequest(let pending): socksRequest(context, pending + bytes())
        case .sniffing(let pending): sniff(context, pending + bytes())
        case .resolving(let pending): state = .resolving(pending + upstream(bytes()))
        case .dnsOverTCP(let pending): answerDNS(context, pending + bytes())
        case .connecting(let pending): state = .connecting(pending + upstream(bytes()))
        case .relaying, .terminated: passUp(context, buffer)
        default: break
        }
    }

    /// Answers every whole length-prefixed query in `bytes`; keeps the rest.
    func answerDNS(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        var rest = bytes[...]
        let channel = context.channel
        while rest.count >= 2 {
            let length = Int(rest[rest.startIndex]) << 8 | Int(rest[rest.startIndex + 1])
            guard length >= 12, length <= DNSMessage.maximumQueryLength else {
                recordsItself = false
                record.method = "DNS"
                record.host = ""
                return deny(context, "DNS over TCP: a message of \(length) bytes")
            }
            guard rest.count >= 2 + length else { break }
            let query = Array(rest.dropFirst(2).prefix(length))
            rest = rest.dropFirst(2 + length)
            // A message of 12 bytes or more has an id, so it is always answered.
            answersOwed += 1
            EgressDNSResponder(shared: shared).respond(to: query, on: context.eventLoop) { answer in
                channel.writeAndFlush(ByteBuffer(bytes: [UInt8(answer.count >> 8), UInt8(answer.count & 0xFF)] + answer), promise: nil)
                self.answersOwed -= 1
                if self.inputClosed, self.answersOwed == 0 { EgressPeer.closeAfterPendingWrites(channel) }
            }
        }
        state = .dnsOverTCP(Array(rest))
        if inputClosed, answersOwed == 0 { EgressPeer.closeAfterPendingWrites(channel) }
    }

    // MARK: Deciding

    /// `final`: the client has closed its sending side, so no more bytes will come.
    func sniff(_ context: ChannelHandlerContext, _ bytes: [UInt8], final: Bool = false) {
        let port = original?.port ?? record.port
        var sniffed = ClaimedName.sniff(bytes, port: port)
        if sniffed == .needMoreBytes, final { sniffed = port == 443 ? .notTLS("the client closed before a ClientHello") : .claimed(nil) }
        switch sniffed {
        case .needMoreBytes: state = .sniffing(bytes)
        case .notTLS(let why): deny(context, "port 443 without TLS: \(why)")
        case .refused(let why): deny(context, why)
        case .claimed(let name):
            var first = bytes
            if port == 443, name == nil { unnamed = "the TLS ClientHello names no server (SNI)" }
            if port == 80 {
                // A request without Host gets the destination's as its own, so it too
                // goes upstream as one request (a pipelined second one would name a site
                // that was never judged).
                let authority = socksTarget?.destination.description
                    ?? original.map { Allowlist.Destination.address($0.address.unmappedV4 ?? $0.address).description }
                switch ClaimedName.originRequest(bytes, defaultAuthority: authority) {
                case .invalid(let reason): return deny(context, reason)
                case .notHTTP: break
                case .request(let request):
                    if name == nil { unnamed = "the HTTP request names no Host" }
                    let body = bytes[request.headLength...].prefix(Int(clamping: request.bodyLength))
                    if request.headLength + body.count < bytes.count { record.reason = "bytes after the request were dropped" }
                    // Secrets as through the HTTP proxy: by the host the request names
                    // (SOCKS: the one the client asked for), which the decision below
                    // must then admit at this address, or nothing is sent.
                    let named = socksTarget?.destination ?? name.flatMap(Allowlist.Destination.init(host:))
                        ?? .address(original?.address.unmappedV4 ?? original?.address ?? IPAddress(bytes: [0, 0, 0, 0])!)
                    switch SecretInjection.apply(head: request.head, body: Array(body), to: named, secrets: shared.configuration.secrets) {
                    case .failure(let denial):
                        if let name { record.host = name }
                        return deny(context, denial.description)
                    case .success(let injected):
                        first = injected.head + body
                        if !injected.injected.isEmpty { record.secrets = injected.injected }
                    }
                    upstreamLeft = request.bodyLength - UInt64(body.count)
                }
            }
            if let target = socksTarget {
                // A ClientHello that names no server leaves the choice of site to the
                // server: a tunnel to a name must carry that name, as through CONNECT.
                if port == 443, name == nil, case .name(let host) = target.destination {
                    return deny(context, "TLS ClientHello names no server (SNI); a tunnel to \(host) must name it")
                }
                if let denial = CapturedConnection.checkClaim(name, for: target.destination, port: port, allowlist: shared.allowlist) {
                    return deny(context, denial.description)
                }
                if port == 443, let name, terminate(context, serverName: name, addresses: target.addresses, port: port, hello: first,
                                                    failed: { deny(context, $0) }) { return }
                connect(context, to: target.addresses, port: port, first: first)
            } else {
                decideCaptured(context, claimed: name, pending: first)
            }
        }
    }

    func decideCaptured(_ context: ChannelHandlerContext, claimed: String?, pending: [UInt8]) {
        guard let original else { return deny(context, "no original destination") }
        // A destination no rule covers goes to the decider first (off the event loop,
        // with its cache and deadline), as through the proxy; its yes admits the name
        // (or address) for this decision, every later check unchanged.
        if let decider = shared.decider, let asked = undecided(claimed: claimed, original) {
            return ask(decider, context, asked, port: original.port, pending: pending, refused: { reason in
                self.record.host = asked.description
                self.deny(context, reason)
            }) { rule, bytes in
                self.decideCaptured(context, original, claimed: claimed, pending: bytes,
                                    allowlist: self.shared.allowlist.admitting(decided: rule), decidedReason: self.record.reason)
            }
        }
        decideCaptured(context, original, claimed: claimed, pending: pending, allowlist: shared.allowlist)
    }

    /// The destination to ask the decider about, when no rule covers what the
    /// connection claims (its SNI or Host) or, claiming nothing, any name the
    /// sandbox's DNS gave out for the address nor the address itself; nil otherwise.
    func undecided(claimed: String?, _ original: OriginalDestination) -> Allowlist.Destination? {
        let allowlist = shared.allowlist
        if let claimed {
            guard let destination = Allowlist.Destination(host: claimed), !allowlist.covers(destination) else { return nil }
            return destination
        }
        let address = original.address.unmappedV4 ?? original.address
        let names = unnamed == nil ? shared.book.names(of: address).map { Allowlist.Destination.name($0) } : []
        let candidates = names + [.address(address)]
        guard !candidates.contains(where: { allowlist.covers($0) }) else { return nil }
        return candidates.first
    }

    func decideCaptured(_ context: ChannelHandlerContext, _ original: OriginalDestination, claimed: String?, pending: [UInt8],
                        allowlist: Allowlist, decidedReason: String? = nil) {
        // A claimed name the sandbox's DNS did not give this address out for is looked
        // up now, off the event loop; only a name the allowlist admits is (a lookup of
        // any other would itself carry the name out).
        let address = original.address.unmappedV4 ?? original.address
        var lookup = context.eventLoop.makeSucceededFuture([IPAddress]()).assumeIsolated()
        if let claimed, case .name(let name)? = Allowlist.Destination(host: claimed), !shared.book.names(of: address).contains(name),
           case .allowed = allowlist.admit(.name(name), port: original.port) {
            lookup = lookUp(.name(name), context)
        }
        state = .resolving(pending)
        lookup.whenComplete { result in
            guard case .resolving(let pending) = self.state else { return }
            self.finishDecision(context, original, claimed: claimed, resolved: (try? result.get()) ?? [], pending: pending,
                                allowlist: allowlist, decidedReason: decidedReason)
        }
    }

    func finishDecision(_ context: ChannelHandlerContext, _ original: OriginalDestination, claimed: String?, resolved: [IPAddress],
                        pending: [UInt8], allowlist: Allowlist, decidedReason: String?) {
        let decision = CapturedConnection.decide(original, claimed: claimed, unnamed: unnamed, allowlist: allowlist,
                                                 book: shared.book, resolve: { _ in resolved })
        switch decision {
        case .failure(let denial):
            if let claimed { record.host = claimed }
            deny(context, denial.description)
        case .success(let admitted):
            record.host = admitted.destination.description
            // A decider's yes is named as such, as through the proxy.
            record.rule = allowlist.decided.contains(admitted.rule) ? "decider" : admitted.rule.text
            if let decidedReason, record.rule == "decider" { record.reason = decidedReason }
            record.address = original.address.description
            if original.port == 443, let claimed, case .name(let host) = admitted.destination, host == claimed,
               terminate(context, serverName: host, addresses: [original.address], port: original.port, hello: pending,
                         failed: { deny(context, $0) }) { return }
            connect(context, to: [original.address], port: original.port, first: pending)
        }
    }

    // MARK: Relaying

    func connect(_ context: ChannelHandlerContext, to candidates: [IPAddress], port: UInt16, first: [UInt8]) {
        dial(context, to: candidates, port: port, first: first, unmapped: true) { self.deny(context, $0, socks: $1) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            switch state {
            case .relaying(let peer): peer.close(mode: .output, promise: nil)
            case .terminated: context.fireUserInboundEventTriggered(event)
            case .connecting, .resolving: break  // passed on once connected
            case .sniffing(let bytes): sniff(context, bytes, final: true)  // decide on what came
            case .dnsOverTCP(let bytes): answerDNS(context, bytes)  // closes once answered
            case .findingDestination: break  // decided once the destination is read
            default: context.close(promise: nil)
            }
            return
        }
        if event is IdleStateHandler.IdleStateEvent { return cut(context, "idle timeout") }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .relaying(let peer): EgressPeer.closeAfterPendingWrites(peer)
        case .connecting, .resolving, .findingDestination, .sniffing, .socksGreeting, .socksRequest:
            record.decision = "failed"
            record.reason = record.reason ?? "the client left before the connection was made"
        default: break
        }
        state = .done
        finish()
        context.fireChannelInactive()
    }

    /// Refuses: a SOCKS client gets its reply code, then the connection ends; a
    /// captured one is reset at once (SO_LINGER 0: RST, not FIN), so the program fails
    /// at connect or first read instead of waiting on a half-open connection.
    func deny(_ context: ChannelHandlerContext, _ reason: String, socks reply: Socks5.Reply = .notAllowed) {
        if record.decision != "failed" { record.decision = "denied" }
        record.reason = reason
        if case .relaying(let peer) = state { peer.close(promise: nil) }
        state = .done
        if socksReplyOwed {
            socksReplyOwed = false
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: Socks5.reply(reply)))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        reset(context)
    }

    func reset(_ context: ChannelHandlerContext) {
        let channel = context.channel
        if let provider = channel as? SocketOptionProvider {
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }
}
