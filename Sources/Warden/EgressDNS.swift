import Egress
import NIOCore

/// The sandbox's resolver: every DNS query a transparent sandbox sends (to any
/// address, port 53: the capture rule brings it here) is answered by the warden.
///
/// A name the allowlist names is looked up the proxy's way (hosts mapping, then the
/// host's resolver), its addresses are checked like a connection's, remembered in the
/// address book (so a later connection to one maps back to the name and its rule)
/// and answered. Anything else is refused without a lookup (DNSGuard): names off the
/// allowlist get NXDOMAIN, TXT/NULL/ANY and oversized names REFUSED or FORMERR, and
/// those are counted as suspicious. One record per query. (The answering is
/// EgressDNSResponder's, shared with DNS over TCP: EgressTunnel.)
final class EgressDNS: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let shared: EgressShared

    init(shared: EgressShared) { self.shared = shared }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) ?? []
        let remote = envelope.remoteAddress
        let channel = context.channel
        EgressDNSResponder(shared: shared).respond(to: bytes, on: context.eventLoop) { answer in
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: answer)), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A send that failed (the client went away) is not the resolver's end.
    }
}
