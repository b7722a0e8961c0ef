import Foundation
import NIOCore
import NIOHTTP1

/// A handler the service mounts at one path beside the v1 API (the MCP endpoint at
/// /mcp), given by the executable that runs the service, so that this library links no
/// protocol of its own beyond HTTP. The token check and the body limit are the API's.
public protocol HTTPEndpoint: Sendable {
    /// Answers one request through `reply`, from any thread, in its own time.
    func handle(_ request: EndpointRequest, _ reply: EndpointReply)
}

public struct EndpointRequest: Sendable {
    public let method: String
    public let path: String
    /// Header names as sent; repeated headers joined with ", ".
    public let headers: [String: String]
    public let body: Data
}

/// The answer to one request: a head, then body pieces as they come (a Server-Sent
/// Events stream, say), then the end. Each call may come from any thread; it is carried
/// out on the connection's event loop.
public final class EndpointReply: @unchecked Sendable {
    private let context: ChannelHandlerContext
    private let loop: EventLoop
    private let version: HTTPVersion
    private let keepAlive: Bool
    private let wrap: (HTTPServerResponsePart) -> NIOAny

    init(context: ChannelHandlerContext, head: HTTPRequestHead, wrap: @escaping (HTTPServerResponsePart) -> NIOAny) {
        self.context = context
        loop = context.eventLoop
        version = head.version
        keepAlive = head.isKeepAlive
        self.wrap = wrap
    }

    /// The status and headers; without a content-length the body is sent chunked.
    public func head(status: Int, headers: [String: String]) {
        loop.execute { [self] in
            var h = HTTPHeaders()
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) { h.add(name: name, value: value) }
            context.writeAndFlush(wrap(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: h))), promise: nil)
        }
    }

    public func body(_ data: Data) {
        loop.execute { [self] in
            var buffer = context.channel.allocator.buffer(capacity: data.count)
            buffer.writeBytes(data)
            context.writeAndFlush(wrap(.body(.byteBuffer(buffer))), promise: nil)
        }
    }

    public func end() {
        loop.execute { [self] in
            let done = context.writeAndFlush(wrap(.end(nil)))
            if !keepAlive { done.whenComplete { [context] _ in context.close(promise: nil) } }
        }
    }

    /// A whole answer with a body of known length.
    public func send(status: Int, headers: [String: String], body: Data?) {
        var headers = headers
        headers["content-length"] = "\(body?.count ?? 0)"
        head(status: status, headers: headers)
        if let body, !body.isEmpty { self.body(body) }
        end()
    }
}
