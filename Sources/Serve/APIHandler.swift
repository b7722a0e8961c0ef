import Foundation
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// One connection's requests: checks the token, collects the body (or streams an
/// upload to its file), runs the route off the event loop and writes the reply; a
/// command's output and the event streams go out as Server-Sent Events
/// (APIHandler+Streams).
final class APIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The largest JSON body accepted.
    static let maxBody = 1 << 20

    let routes: Routes
    private let token: String?
    /// Handlers mounted beside the API, by path (the MCP endpoint).
    private let endpoints: [String: HTTPEndpoint]
    /// The mounted handler the current request is for.
    private var endpoint: HTTPEndpoint?
    /// Runs a route's blocking work off the event loop (a concurrent queue; inline in tests).
    private let offload: (@escaping () -> Void) -> Void

    private var head: HTTPRequestHead?
    private var body = Data()
    private var rejected: APIError?
    private var upload: Upload?
    /// What this connection follows (a command's output, an event stream): cancelled
    /// when the client goes away.
    var following: (() -> Void)?
    /// A foreground command that asked to be killed when its client goes away.
    var killWhenGone: SandboxCommand?
    /// Who is on the other end (APIRequest.client), read when the connection opens.
    private var client = "api"

    /// A PUT of a file: its bytes go straight to the file as they arrive.
    private final class Upload {
        let fd: OwnedDescriptor
        let path: String
        var size: Int64 = 0
        var failure: APIError?
        /// Moves the bytes from `fd` to the sandbox at the end (gVisor); nil: `fd` is the file.
        let finish: ((OwnedDescriptor) throws -> Void)?
        init(fd: OwnedDescriptor, path: String, finish: ((OwnedDescriptor) throws -> Void)?) {
            self.fd = fd
            self.path = path
            self.finish = finish
        }
    }

    init(routes: Routes, token: String?, endpoints: [String: HTTPEndpoint] = [:], offload: @escaping (@escaping () -> Void) -> Void) {
        self.routes = routes
        self.token = token
        self.endpoints = endpoints
        self.offload = offload
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress, let ip = remote.ipAddress, let port = remote.port {
            client = "api tcp \(ip):\(port)" + (token == nil ? "" : " (bearer token)")
        } else if let provider = context.channel as? SocketOptionProvider {
            provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
                .whenSuccess { (peer: PeerCredentials) in self.client = "api unix uid \(peer.uid) pid \(peer.pid)" }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = Data()
            rejected = nil
            upload = nil
            endpoint = endpoints.isEmpty ? nil : endpoints[String(h.uri.split(separator: "?", maxSplits: 1).first ?? "")]
            if let token, !Self.authorized(h, token: token) {
                rejected = .unauthorized
            } else if endpoint != nil {
                // The body is collected as for the API's JSON requests.
            } else if h.method == .PUT {
                beginUpload(h)
            }
            // A client that asks first (curl does for any upload over 1 MiB) otherwise
            // waits a second before it sends the body; a refused request gets its error
            // after the body instead.
            if rejected == nil, h.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil)
            }
        case .body(var chunk):
            if rejected != nil { return }
            if let upload {
                guard upload.failure == nil else { return }
                chunk.withUnsafeReadableBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let n = write(upload.fd.rawValue, bytes.baseAddress! + offset, bytes.count - offset)
                        if n < 0 {
                            if errno == EINTR || errno == EAGAIN { continue }
                            upload.failure = SandboxFiles.failure(errno, upload.path)
                            return
                        }
                        offset += n
                    }
                    upload.size += Int64(bytes.count)
                }
            } else if body.count + chunk.readableBytes > Self.maxBody {
                rejected = .tooLarge("body: larger than \(Self.maxBody) bytes")
            } else if let bytes = chunk.readBytes(length: chunk.readableBytes) {
                body.append(contentsOf: bytes)
            }
        case .end:
            guard let h = head else { return }
            head = nil
            if let rejected {
                upload?.fd.close()
                respond(context, h, .failure(rejected))
            } else if let endpoint {
                self.endpoint = nil
                var headers: [String: String] = [:]
                for (name, value) in h.headers { headers[name] = headers[name].map { $0 + ", " + value } ?? value }
                let request = EndpointRequest(method: h.method.rawValue, path: String(h.uri.split(separator: "?", maxSplits: 1).first ?? ""),
                                              headers: headers, body: body)
                body = Data()
                endpoint.handle(request, EndpointReply(context: context, head: h, wrap: { self.wrapOutboundOut($0) }))
            } else if let upload {
                self.upload = nil
                let name = upload.path.split(separator: "/").last.map(String.init) ?? ""
                let written = Reply.json(.ok, ["path": upload.path, "name": name, "type": "file", "size": upload.size])
                if let failure = upload.failure {
                    upload.fd.close()
                    respond(context, h, .failure(failure))
                } else if let finish = upload.finish {
                    let promise = context.eventLoop.makePromise(of: Reply.self)
                    offload {
                        defer { upload.fd.close() }
                        do { try finish(upload.fd); promise.succeed(written) } catch { promise.fail(error) }
                    }
                    promise.futureResult.whenComplete { result in self.respond(context, h, result) }
                } else {
                    upload.fd.close()
                    respond(context, h, .success(written))
                }
            } else {
                route(context, h)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientGone()
        upload?.fd.close()
        upload = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        clientGone()
        context.close(promise: nil)
    }

    /// The client went away: what it followed is let go, and a command that asked for
    /// it is killed (others run on, for a client that reconnects).
    private func clientGone() {
        following?()
        following = nil
        killWhenGone?.kill()
        killWhenGone = nil
    }

    private static func authorized(_ h: HTTPRequestHead, token: String) -> Bool {
        guard let value = h.headers.first(name: "authorization") else { return false }
        let expected = Array("Bearer \(token)".utf8), given = Array(value.utf8)
        guard expected.count == given.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<expected.count { diff |= expected[i] ^ given[i] }
        return diff == 0
    }

    /// PUT /v1/sandboxes/{id}/files?path=P: opens the file before the body comes.
    private func beginUpload(_ h: HTTPRequestHead) {
        do {
            let r = try APIRequest(head: h, body: Data())
            guard r.segments.count == 4, r.segments[0] == "v1", r.segments[1] == "sandboxes", r.segments[3] == "files" else {
                return // not an upload: the route answers (404 or 405)
            }
            try Routes.refuseUnknownQuery(r, known: ["path"])
            let path = try SandboxFiles.validate(r.queryValue("path"))
            let (fd, finish) = try routes.uploadTarget(r.segments[2], path: path)
            upload = Upload(fd: fd, path: path, finish: finish)
        } catch {
            rejected = (error as? APIError) ?? .internalError("\(error)")
        }
    }

    private func route(_ context: ChannelHandlerContext, _ h: HTTPRequestHead) {
        var request: APIRequest
        do {
            request = try APIRequest(head: h, body: body)
            request.client = client
        } catch {
            respond(context, h, .failure(error))
            return
        }
        body = Data()
        let promise = context.eventLoop.makePromise(of: Reply.self)
        let routes = self.routes
        offload {
            do { promise.succeed(try routes.handle(request)) } catch { promise.fail(error) }
        }
        promise.futureResult.whenComplete { result in
            self.respond(context, h, result)
        }
    }

    func respond(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ result: Result<Reply, Error>) {
        switch result {
        case .failure(let error):
            let e = (error as? APIError) ?? .internalError("\(error)")
            var headers = HTTPHeaders()
            if !e.allow.isEmpty { headers.add(name: "allow", value: e.allow.joined(separator: ", ")) }
            sendJSON(context, h, e.status, e.json, headers: headers)
        case .success(.json(let status, let value)):
            sendJSON(context, h, status, value)
        case .success(.noContent):
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            send(context, h, .noContent, headers, nil)
        case .success(.file(let fd, let size)):
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/octet-stream")
            headers.add(name: "content-length", value: "\(size)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .ok, headers: headers))), promise: nil)
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd.release())
            let region = FileRegion(fileHandle: handle, readerIndex: 0, endIndex: Int(size))
            context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
            finish(context, h).whenComplete { _ in try? handle.close() }
        case .success(.command(let plan)):
            runCommand(context, h, plan)
        case .success(.followCommand(let command, let after)):
            followCommand(context, h, command, after: after)
        case .success(.events(let sandboxId, let after)):
            followEvents(context, h, sandboxId, after: after)
        case .success(.text(let status, let contentType, let bytes)):
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: contentType)
            headers.add(name: "content-length", value: "\(bytes.count)")
            var buffer = context.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            send(context, h, status, headers, buffer)
        }
    }

    func sendJSON(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ status: HTTPResponseStatus, _ value: Any,
                  headers extra: HTTPHeaders = HTTPHeaders()) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers = extra
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: "\(data.count + 1)")
        var buffer = context.channel.allocator.buffer(capacity: data.count + 1)
        buffer.writeBytes(data)
        buffer.writeString("\n")
        send(context, h, status, headers, buffer)
    }

    private func send(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ status: HTTPResponseStatus,
                      _ headers: HTTPHeaders, _ body: ByteBuffer?) {
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: status, headers: headers))), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        _ = finish(context, h)
    }

    @discardableResult
    func finish(_ context: ChannelHandlerContext, _ h: HTTPRequestHead) -> EventLoopFuture<Void> {
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !h.isKeepAlive { done.whenComplete { _ in context.close(promise: nil) } }
        return done
    }
}

/// Linux's `struct ucred` (SO_PEERCRED), which Glibc's module leaves out (it is
/// behind _GNU_SOURCE): the same three fields in the same order.
struct PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Output bytes to text, a chunk at a time: a UTF-8 sequence split between two reads
/// is held until its end comes; invalid bytes become U+FFFD.
struct UTF8Chunks {
    private var pending: [UInt8] = []

    mutating func decode(_ data: Data) -> String {
        pending.append(contentsOf: data)
        // Hold back an incomplete sequence at the end (at most 3 bytes).
        var cut = pending.count
        var i = pending.count - 1
        var back = 0
        while i >= 0, back < 4 {
            let b = pending[i]
            if b & 0xC0 != 0x80 { // a lead byte or ASCII
                let need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                if need > pending.count - i { cut = i }
                break
            }
            i -= 1
            back += 1
        }
        let text = String(decoding: pending[0..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    mutating func flush() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }
}
