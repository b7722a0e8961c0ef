import NIOCore
import NIOSSL
import NIOTLS

/// The server's side of a terminated connection: its decrypted bytes go back through
/// the relay's context, so the client's TLS session carries them.
final class SecretRelayUpstream: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let relay: SecretRelay
    let front: ChannelHandlerContext
    var delivered = false

    init(relay: SecretRelay, front: ChannelHandlerContext) {
        self.relay = relay
        self.front = front
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { relay.upstreamReady(context.channel) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        delivered = true
        relay.answered = true
        if !relay.owner.countDown(buffer.readableBytes) {
            front.close(promise: nil)
            context.close(promise: nil)
            return
        }
        front.writeAndFlush(NIOAny(buffer), promise: nil)
        if !front.channel.isWritable { context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if delivered {
            // The answer's last bytes reach the client before its session ends.
            let front = self.front, relay = self.relay
            front.writeAndFlush(NIOAny(ByteBuffer())).assumeIsolated().whenComplete { _ in relay.endFront(front) }
        } else {
            relay.upstreamFailed(front, WardenError("the server closed the connection without an answer"))
        }
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        front.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A server that closes without close_notify after its answer: its end follows.
        if delivered, let tls = error as? NIOSSLError, case .uncleanShutdown = tls { return }
        if !delivered { relay.upstreamFailed(front, error) } else { relay.endFront(front) }
        context.close(promise: nil)
    }
}
