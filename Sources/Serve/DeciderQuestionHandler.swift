import Foundation
import NIOCore
import NIOHTTP1

/// One question from a warden on a sandbox's decider socket: `POST /decide` with
/// `{"host":"other.test","port":443}`, answered `200 {"allow":...,"reason":...}` once a
/// client decides. The warden's closing of the connection (its deadline) ends it.
final class DeciderQuestionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maximumBody = 4096
    let deciders: ClientDeciders
    let sandboxId: String
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var requestId: String?

    init(deciders: ClientDeciders, sandboxId: String) {
        self.deciders = deciders
        self.sandboxId = sandboxId
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(var chunk):
            if body.count + chunk.readableBytes <= Self.maximumBody { body += chunk.readBytes(length: chunk.readableBytes) ?? [] }
        case .end:
            guard let h = head, requestId == nil else { return }
            guard h.method == .POST, h.uri == "/decide",
                  let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                  let host = object["host"] as? String, let port = object["port"] as? Int else {
                return respond(context, .badRequest, ["error": "POST /decide with {\"host\":...,\"port\":...}"])
            }
            let loop = context.eventLoop
            let rid = deciders.ask(sandboxId, host: host, port: port) { allow, reason in
                loop.execute { self.respond(context, .ok, ["allow": allow, "reason": reason]) }
            }
            guard let rid else { return respond(context, .serviceUnavailable, ["error": "the sandbox is gone"]) }
            requestId = rid
        }
    }

    func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ value: [String: Any]) {
        guard context.channel.isActive else { return }
        let data = (try? JSONSerialization.data(withJSONObject: value)) ?? Data("{}".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: "\(data.count)")
        headers.add(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: data.count)
        buffer.writeBytes(data)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let rid = requestId { deciders.expire(rid, because: "no answer within the sandbox's decider deadline") }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
