import Egress
import NIOCore
import NIOPosix
import NIOSSL

/// The decrypted side of a connection whose TLS the proxy terminates (a secret's
/// host), after the NIOSSLServerHandler in the client's pipeline: one HTTP/1.1 request
/// read from the client, judged as a plain HTTP one (TerminatedRequest), its secrets
/// put in or the request refused (SecretInjection: a placeholder bound for a host
/// that is not its secret's is answered 403 inside TLS and recorded), then sent over
/// a new TLS connection to the server the decision admitted, which is verified
/// against the host's trust store by name. The answer comes back unchanged, and is
/// encrypted again by the server handler before this one.
final class SecretRelay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        case head([UInt8])
        /// Connecting and handshaking with the server; client bytes (of the body) wait.
        case connecting([UInt8])
        case relaying(Channel)
        case done
    }

    let termination: EgressTermination
    let serverName: String
    let addresses: [IPAddress]
    let port: UInt16
    /// Unowned in effect: the owner is in the same pipeline and outlives this handler's use.
    let owner: EgressClient
    /// The owner's context, before the TLS handler: closing there ends the socket at
    /// once, where a close through the TLS handler would wait for the client's
    /// close_notify (the server never goes half-open waiting on a client that left).
    let socket: ChannelHandlerContext
    var state: State = .head([])
    var answered = false
    var inputClosed = false

    init(termination: EgressTermination, serverName: String, addresses: [IPAddress], port: UInt16,
         owner: EgressClient, socket: ChannelHandlerContext) {
        self.socket = socket
        self.termination = termination
        self.serverName = serverName
        self.addresses = addresses
        self.port = port
        self.owner = owner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        switch state {
        case .head(let pending): readHead(context, pending + bytes)
        case .connecting(let pending): state = .connecting(pending + owner.upstream(bytes))
        case .relaying(let peer):
            let kept = owner.upstream(bytes)
            if !kept.isEmpty { peer.writeAndFlush(ByteBuffer(bytes: kept), promise: nil) }
        case .done: break
        }
    }

    func readHead(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        switch TerminatedRequest.parse(bytes, serverName: serverName) {
        case .needMoreBytes: state = .head(bytes)
        case .invalid(let status, let reason): answer(context, status: status, reason: reason, decision: "denied")
        case .request(let head, let bodyLength, let headLength):
            let body = Array(bytes[headLength...].prefix(Int(clamping: bodyLength)))
            if headLength + body.count < bytes.count { owner.record.reason = "bytes after the request were dropped" }
            switch SecretInjection.apply(head: head, body: body, to: .name(serverName), secrets: termination.secrets) {
            case .failure(let denial): answer(context, status: 403, reason: denial.description, decision: "denied")
            case .success(let injected):
                owner.record.reason = nil
                if !injected.injected.isEmpty { owner.record.secrets = injected.injected }
                // The owner bounds what else goes upstream to the body: what follows is dropped.
                owner.upstreamLeft = bodyLength - UInt64(body.count)
                state = .connecting(injected.head + body)
                connect(context, to: addresses)
            }
        }
    }

    /// Dials the next checked address, then the TLS handshake with the server.
    func connect(_ context: ChannelHandlerContext, to candidates: [IPAddress]) {
        guard let address = candidates.first else { return answer(context, status: 502, reason: "no address to connect to", decision: "failed") }
        owner.record.address = address.description
        let tls: NIOSSLContext
        let socketAddress: SocketAddress
        do {
            tls = try termination.clientContext()
            socketAddress = try SocketAddress(ipAddress: (address.unmappedV4 ?? address).description, port: Int(port))
        } catch {
            return answer(context, status: 502, reason: "TLS to \(serverName): \(error)", decision: "failed")
        }
        let serverName = self.serverName
        let upstream = NIOLoopBound(SecretRelayUpstream(relay: self, front: context), eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.seconds(10))
            .channelInitializer { peer in
                peer.eventLoop.makeCompletedFuture {
                    try peer.pipeline.syncOperations.addHandlers(
                        try NIOSSLClientHandler(context: tls, serverHostname: serverName), upstream.value)
                }
            }
            .connect(to: socketAddress)
            .assumeIsolated().whenComplete { result in
                switch result {
                case .success(let peer):
                    guard case .connecting = self.state else { peer.close(promise: nil); return }
                case .failure(let error):
                    guard case .connecting = self.state else { return }
                    if candidates.count > 1 { return self.connect(context, to: Array(candidates.dropFirst())) }
                    self.answer(context, status: 502, reason: "connecting to \(address) port \(self.port): \(error)", decision: "failed")
                }
            }
    }

    /// The server's handshake succeeded: the request goes out.
    func upstreamReady(_ peer: Channel) {
        guard case .connecting(let pending) = state else { peer.close(promise: nil); return }
        owner.record.decision = "allowed"
        state = .relaying(peer)
        peer.writeAndFlush(ByteBuffer(bytes: pending), promise: nil)
    }

    /// The server's connection failed before it answered (its certificate did not
    /// verify, it reset): the client gets a 502 naming why.
    func upstreamFailed(_ context: ChannelHandlerContext, _ error: Error) {
        guard !answered else { return endFront(context) }
        if case .done = state { return }
        answer(context, status: 502, reason: "TLS to \(serverName) port \(port): \(SecretRelay.describe(error))", decision: "failed")
    }

    /// Answers inside the TLS session (the client reads the status and one line) and ends it.
    func answer(_ context: ChannelHandlerContext, status: Int, reason: String, decision: String) {
        if case .relaying(let peer) = state { peer.close(promise: nil) }
        state = .done
        answered = true
        owner.record.decision = decision
        owner.record.reason = reason
        let text = EgressRefusal.response(status: status, reason: reason)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { _ in
            self.endFront(context)
        }
    }

    /// The answer is all out: the TLS session is closed (close_notify, so the client
    /// knows the answer is whole), and the socket once the client's side is closed too.
    func endFront(_ context: ChannelHandlerContext) {
        state = .done
        context.close(mode: .output, promise: nil)
        if inputClosed { socket.close(promise: nil) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .relaying(let peer) = state {
            peer.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            switch state {
            case .relaying, .connecting: break  // the answer still comes; endFront closes
            case .head, .done: socket.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .relaying(let peer) = state { peer.close(promise: nil) }
        if case .connecting = state {
            owner.record.decision = "failed"
            owner.record.reason = owner.record.reason ?? "the client left while the proxy was connecting"
        }
        state = .done
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A client that closes without close_notify: its input's end follows, and decides.
        if let tls = error as? NIOSSLError, case .uncleanShutdown = tls { return }
        // The client's TLS failed (it does not trust the sandbox's CA, or left mid-handshake).
        if case .head(let b) = state, b.isEmpty, !answered {
            owner.record.decision = "failed"
            owner.record.reason = "TLS with the client: \(SecretRelay.describe(error))"
        }
        if case .relaying(let peer) = state { peer.close(promise: nil) }
        state = .done
        socket.close(promise: nil)
    }

    /// A TLS failure in a line: BoringSSL's reason (`CERTIFICATE_VERIFY_FAILED`), not
    /// the library's nested description with its source paths.
    static func describe(_ error: Error) -> String {
        let text = "\(error)"
        guard let tls = error as? NIOSSLError else { return text }
        var reason = text
        if let start = text.firstRange(of: "OPENSSL_internal:") {
            reason = String(text[start.upperBound...].prefix { $0 != " " && $0 != "]" && $0 != ")" })
        }
        switch tls {
        case .handshakeFailed: return "the handshake failed: \(reason)"
        default: return reason
        }
    }
}
