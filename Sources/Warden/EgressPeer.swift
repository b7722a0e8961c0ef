import NIOCore
import NIOPosix

/// The origin server's side of a relay: its bytes go to the client unchanged.
final class EgressPeer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let front: Channel
    /// The client side's handler, which counts the bytes (held until the relay ends:
    /// closing either channel tears this pipeline down).
    let meter: EgressClient

    init(front: Channel, meter: EgressClient) {
        self.front = front
        self.meter = meter
    }

    /// Dials the origin server for `front` (10 s connect timeout), with a peer handler
    /// relaying its bytes to `front` counted by `meter`: the one dial of the proxy's
    /// EgressConnection and of EgressTunnel.
    static func connect(on loop: EventLoop, to address: SocketAddress, front: Channel, meter: EgressClient) -> EventLoopFuture<Channel> {
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelInitializer { peer in
                peer.eventLoop.makeCompletedFuture {
                    try peer.pipeline.syncOperations.addHandler(EgressPeer(front: front, meter: meter))
                }
            }
            .connect(to: address)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if !meter.countDown(buffer.readableBytes) {
            front.close(promise: nil)
            context.close(promise: nil)
            return
        }
        front.writeAndFlush(buffer, promise: nil)
        if !front.isWritable { context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        front.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        Self.closeAfterPendingWrites(front)
        context.fireChannelInactive()
    }

    /// Closes `channel` once what was written to it has gone out: a plain close would
    /// fail the queued writes and cut the end of a transfer.
    static func closeAfterPendingWrites(_ channel: Channel) {
        channel.writeAndFlush(ByteBuffer()).whenComplete { _ in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
