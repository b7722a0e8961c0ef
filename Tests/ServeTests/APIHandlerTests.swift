import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import Serve
import XCTest

/// The HTTP handler in an EmbeddedChannel: token, routing, error bodies. No runtime is
/// run (the routes here fail before they would need one).
final class APIHandlerTests: XCTestCase {
    private var stateDir = ""

    override func setUp() {
        stateDir = NSTemporaryDirectory() + "serve-tests-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    private func channel(token: String? = nil) throws -> EmbeddedChannel {
        let runtime = RuntimeClient(executable: "/bin/false", root: stateDir + "/root")
        let store = SandboxStore(runtime: runtime, records: RecordDirectory(path: stateDir))
        let routes = Routes(store: store, version: "test")
        let handler = APIHandler(routes: routes, token: token, offload: { $0() })
        return EmbeddedChannel(handler: handler)
    }

    /// Sends one request and returns the status and the JSON body of the answer.
    private func send(_ channel: EmbeddedChannel, _ method: HTTPMethod, _ uri: String, body: String? = nil,
                      headers: [(String, String)] = []) throws -> (HTTPResponseStatus, [String: Any]) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        if let body { try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: body))) }
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.embeddedEventLoop.run()
        guard case .head(let response)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            XCTFail("no response head")
            return (.internalServerError, [:])
        }
        var bytes = ByteBuffer()
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            if case .body(.byteBuffer(var b)) = part { bytes.writeBuffer(&b) }
            if case .end = part { break }
        }
        let data = Data(bytes.readableBytesView)
        let json = data.isEmpty ? [:] : (try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:])
        return (response.status, json)
    }

    private func error(_ json: [String: Any]) -> (code: String, message: String) {
        let e = json["error"] as? [String: Any] ?? [:]
        return (e["code"] as? String ?? "", e["message"] as? String ?? "")
    }

    func testHealthAndVersion() throws {
        let c = try channel()
        let (status, json) = try send(c, .GET, "/v1/health")
        XCTAssertEqual(status, .ok)
        XCTAssertEqual(json["status"] as? String, "ok")
        let (vStatus, version) = try send(c, .GET, "/v1/version")
        XCTAssertEqual(vStatus, .ok)
        XCTAssertEqual(version["api"] as? String, "v1")
    }

    func testTokenIsRequiredWhenSet() throws {
        let c = try channel(token: "0123456789abcdef")
        var (status, json) = try send(c, .GET, "/v1/health")
        XCTAssertEqual(status, .unauthorized)
        XCTAssertEqual(error(json).code, "unauthorized")
        (status, json) = try send(c, .GET, "/v1/health", headers: [("Authorization", "Bearer 0123456789abcdeX")])
        XCTAssertEqual(status, .unauthorized)
        (status, _) = try send(c, .POST, "/v1/sandboxes", body: "{}", headers: [])
        XCTAssertEqual(status, .unauthorized)
        (status, _) = try send(c, .GET, "/v1/health", headers: [("Authorization", "Bearer 0123456789abcdef")])
        XCTAssertEqual(status, .ok)
    }

    func testUnknownIdsRoutesAndMethods() throws {
        let c = try channel()
        var (status, json) = try send(c, .GET, "/v1/sandboxes/sbx-none")
        XCTAssertEqual(status, .notFound)
        XCTAssertEqual(error(json).code, "not_found")
        (status, _) = try send(c, .PUT, "/v1/sandboxes/sbx-none/files?path=/x", body: "bytes")
        XCTAssertEqual(status, .notFound)
        (status, _) = try send(c, .GET, "/v2/anything")
        XCTAssertEqual(status, .notFound)
        (status, json) = try send(c, .PATCH, "/v1/sandboxes")
        XCTAssertEqual(status, .methodNotAllowed)
        XCTAssertEqual(error(json).code, "method_not_allowed")
    }

    func testMalformedBodiesNameTheField() throws {
        let c = try channel()
        var (status, json) = try send(c, .POST, "/v1/sandboxes", body: "{nope")
        XCTAssertEqual(status, .badRequest)
        XCTAssertTrue(error(json).message.hasPrefix("body: "))
        (status, json) = try send(c, .POST, "/v1/sandboxes", body: #"{"rootfs": "relative"}"#)
        XCTAssertEqual(status, .badRequest)
        XCTAssertEqual(error(json).code, "invalid_argument")
        XCTAssertTrue(error(json).message.hasPrefix("rootfs: "))
        (status, json) = try send(c, .POST, "/v1/sandboxes", body: #"{"rootfs": "/", "timeout": 0}"#)
        XCTAssertTrue(error(json).message.hasPrefix("timeout: "))
        (status, json) = try send(c, .GET, "/v1/sandboxes?owner=me")
        XCTAssertEqual(status, .badRequest)
        XCTAssertTrue(error(json).message.hasPrefix("owner: "))
        (status, json) = try send(c, .POST, "/v1/sandboxes", body: String(repeating: " ", count: APIHandler.maxBody + 1))
        XCTAssertEqual(status, .payloadTooLarge)
    }

    func testSessionRoutes() throws {
        let c = try channel()
        for (method, uri) in [(HTTPMethod.POST, "/v1/sandboxes/sbx-none/pause"), (.POST, "/v1/sandboxes/sbx-none/resume"),
                              (.GET, "/v1/sandboxes/sbx-none/commands"), (.GET, "/v1/sandboxes/sbx-none/commands/cmd-x"),
                              (.POST, "/v1/sandboxes/sbx-none/commands/cmd-x/kill"),
                              (.POST, "/v1/sandboxes/sbx-none/commands/cmd-x/stdin"),
                              (.GET, "/v1/sandboxes/sbx-none/commands/cmd-x/events"), (.GET, "/v1/sandboxes/sbx-none/events")] {
            let (status, json) = try send(c, method, uri, body: "{}")
            XCTAssertEqual(status, .notFound, uri)
            XCTAssertEqual(error(json).message, "no sandbox \"sbx-none\"", uri)
        }
        var (status, json) = try send(c, .GET, "/v1/events")
        XCTAssertEqual(status, .ok)
        XCTAssertEqual((json["events"] as? [Any])?.count, 0)
        (status, json) = try send(c, .GET, "/v1/events?after=soon")
        XCTAssertEqual(status, .badRequest)
        XCTAssertTrue(error(json).message.hasPrefix("after: "))
        (status, json) = try send(c, .GET, "/v1/events", headers: [("Last-Event-ID", "x")])
        XCTAssertTrue(error(json).message.hasPrefix("Last-Event-ID: "))
        (status, _) = try send(c, .PATCH, "/v1/sandboxes/sbx-none/pause")
        XCTAssertEqual(status, .methodNotAllowed)
        (status, _) = try send(c, .DELETE, "/v1/sandboxes/sbx-none/commands/cmd-x")
        XCTAssertEqual(status, .methodNotAllowed)
        (status, _) = try send(c, .GET, "/v1/sandboxes/sbx-none/commands/cmd-x/other")
        XCTAssertEqual(status, .notFound)
    }
}
