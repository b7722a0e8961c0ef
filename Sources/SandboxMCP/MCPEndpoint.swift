import Foundation
import MCP
import Serve

/// MCP over streamable HTTP at /mcp on `safehouse serve`: one MCP session per
/// `initialize`, each with its own server, transport (the SDK's stateful one: JSON-RPC
/// in a POST, the answer as an SSE stream) and MCPSession over the service's sandboxes.
/// A session ends when the client DELETEs it, or when no request came for the sandbox
/// timeout; either way its sandboxes are killed. The token check is the service's.
public final class MCPEndpoint: HTTPEndpoint, @unchecked Sendable {
    private let host: SandboxHost
    private let options: MCPOptions
    private let version: String
    private let sessions = Sessions()

    /// `arguments`: the `--mcp-*` flags of `safehouse serve`, without their prefix.
    public init(host: SandboxHost, arguments: [String]) throws {
        guard arguments.allSatisfy({ !["--images", "--root", "--state-dir", "--runtime"].contains($0) }) else {
            throw MCPOptions.Failure(description: "--rootfs, --policy and --timeout are the only --mcp- flags")
        }
        // The service's --images hold for /mcp's images, the default one's too.
        let options = try MCPOptions(arguments: arguments + host.images.flatMap { ["--images", $0] })
        for policy in options.policies {
            do { try host.checkPolicy(policy, rootfs: options.rootfs!) } catch let error as APIError {
                throw MCPOptions.Failure(description: "--policy: " + error.message.replacingOccurrences(of: "policy: ", with: ""))
            }
        }
        self.host = host
        self.options = options
        version = MCPMain.version(host: host.runtimePath)
        let sessions = self.sessions, idle = TimeInterval(options.timeout)
        Task.detached {
            while true {
                try? await Task.sleep(nanoseconds: 60 * 1_000_000_000)
                await sessions.closeIdle(longerThan: idle)
            }
        }
    }

    public func handle(_ request: EndpointRequest, _ reply: EndpointReply) {
        let http = HTTPRequest(method: request.method, headers: request.headers,
                               body: request.body.isEmpty ? nil : request.body, path: request.path)
        Task {
            let response = await self.respond(http)
            await Self.write(response, to: reply)
        }
    }

    private func respond(_ request: HTTPRequest) async -> HTTPResponse {
        if let id = request.header(HTTPHeaderName.sessionID), let entry = await sessions.touch(id) {
            let response = await entry.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE", response.statusCode == 200 {
                await sessions.close(id)
            }
            return response
        }
        if request.method.uppercased() == "POST", let body = request.body, Self.isInitialize(body) {
            return await open(request)
        }
        if request.header(HTTPHeaderName.sessionID) != nil {
            return .error(statusCode: 404, .invalidRequest("Not Found: no such MCP session (it ended or expired)"))
        }
        return .error(statusCode: 400, .invalidRequest("Bad Request: missing \(HTTPHeaderName.sessionID) header"))
    }

    /// A new session: its id, its transport and server, then the initialize request.
    private func open(_ request: HTTPRequest) async -> HTTPResponse {
        let id = UUID().uuidString
        // The Host and Origin check is left out: the service is on a Unix socket, or on
        // TCP where every request carries the bearer token, which a browser page lacks.
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: id),
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
            ]))
        let session = MCPSession(host: host, options: options, label: id)
        let server = MCPMain.server(session: session, version: version)
        await MCPMain.serve(session, on: server)
        do {
            try await server.start(transport: transport)
        } catch {
            return .error(statusCode: 500, .internalError("the MCP session did not start: \(error)"))
        }
        await sessions.add(id, Sessions.Entry(server: server, transport: transport, session: session))
        let response = await transport.handleRequest(request)
        if case .error = response { await sessions.close(id) }
        return response
    }

    /// A JSON-RPC `initialize` request (with an id: not a notification).
    static func isInitialize(_ body: Data) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return false }
        return object["method"] as? String == "initialize" && object["id"] != nil && !(object["id"] is NSNull)
    }

    private struct FixedSessionID: SessionIDGenerator {
        let id: String
        func generateSessionID() -> String { id }
    }

    private static func write(_ response: HTTPResponse, to reply: EndpointReply) async {
        switch response {
        case .stream(let stream, let headers):
            reply.head(status: 200, headers: headers)
            do {
                for try await chunk in stream { reply.body(chunk) }
            } catch {}
            reply.end()
        default:
            reply.send(status: response.statusCode, headers: response.headers, body: response.bodyData)
        }
    }

    /// The open sessions, by id.
    actor Sessions {
        struct Entry {
            let server: Server
            let transport: StatefulHTTPServerTransport
            let session: MCPSession
            var lastUsed = Date()
        }

        private var entries: [String: Entry] = [:]

        func add(_ id: String, _ entry: Entry) { entries[id] = entry }

        func touch(_ id: String) -> Entry? {
            entries[id]?.lastUsed = Date()
            return entries[id]
        }

        /// Ends the session: its sandboxes are killed (off the actor: it blocks).
        func close(_ id: String) async {
            guard let entry = entries.removeValue(forKey: id) else { return }
            await entry.server.stop()
            await entry.transport.disconnect()
            await withCheckedContinuation { done in
                DispatchQueue.global().async {
                    entry.session.close()
                    done.resume()
                }
            }
        }

        func closeIdle(longerThan seconds: TimeInterval) async {
            let now = Date()
            for (id, entry) in entries where now.timeIntervalSince(entry.lastUsed) > seconds {
                await close(id)
            }
        }
    }
}
