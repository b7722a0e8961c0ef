import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import Serve
import XCTest

/// GET /metrics through the handler in an EmbeddedChannel, over an empty runtime root:
/// the service's own series, the text format's content type, the token, the method.
final class MetricsRouteTests: XCTestCase {
    private var stateDir = ""

    override func setUp() {
        stateDir = NSTemporaryDirectory() + "serve-metrics-tests-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    private func make(token: String? = nil) -> (EmbeddedChannel, SandboxStore) {
        let runtime = RuntimeClient(executable: "/bin/false", root: stateDir + "/root")
        let store = SandboxStore(runtime: runtime, records: RecordDirectory(path: stateDir))
        let handler = APIHandler(routes: Routes(store: store, version: "test"), token: token, offload: { $0() })
        return (EmbeddedChannel(handler: handler), store)
    }

    private func send(_ channel: EmbeddedChannel, _ method: HTTPMethod, _ uri: String,
                      headers: [(String, String)] = []) throws -> (HTTPResponseHead?, String) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.embeddedEventLoop.run()
        guard case .head(let response)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return (nil, "") }
        var bytes = ByteBuffer()
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            if case .body(.byteBuffer(var b)) = part { bytes.writeBuffer(&b) }
            if case .end = part { break }
        }
        return (response, String(decoding: bytes.readableBytesView, as: UTF8.self))
    }

    func testServiceSeriesInTheTextFormat() throws {
        let (c, store) = make()
        store.metrics.recordCreate(policy: "default", seconds: 0.3)
        store.metrics.recordTimeout()
        let (head, body) = try send(c, .GET, "/metrics")
        XCTAssertEqual(head?.status, .ok)
        XCTAssertEqual(head?.headers.first(name: "content-type"), "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(head?.headers.first(name: "content-length"), "\(body.utf8.count)")
        let lines = Set(body.split(separator: "\n").map(String.init))
        XCTAssertTrue(lines.contains("# TYPE safehouse_sandbox_create_seconds histogram"), body)
        XCTAssertTrue(lines.contains("safehouse_sandbox_create_seconds_bucket{policy=\"default\",le=\"0.25\"} 0"), body)
        XCTAssertTrue(lines.contains("safehouse_sandbox_create_seconds_bucket{policy=\"default\",le=\"0.5\"} 1"), body)
        XCTAssertTrue(lines.contains("safehouse_sandbox_create_seconds_count{policy=\"default\"} 1"), body)
        XCTAssertTrue(lines.contains("safehouse_limit_hits_total{limit=\"timeout\"} 1"), body)
        XCTAssertTrue(lines.contains("safehouse_limit_hits_total{limit=\"memory\"} 0"), body)
        XCTAssertTrue(lines.contains("safehouse_sandboxes{state=\"running\"} 0.0"), body)
        XCTAssertFalse(body.contains("safehouse_sandbox_memory_bytes{"), "no sandbox, no per-sandbox series")
    }

    func testTokenAndMethod() throws {
        let (c, _) = make(token: "0123456789abcdef")
        XCTAssertEqual(try send(c, .GET, "/metrics").0?.status, .unauthorized)
        XCTAssertEqual(try send(c, .GET, "/metrics", headers: [("Authorization", "Bearer 0123456789abcdef")]).0?.status, .ok)
        XCTAssertEqual(try send(c, .POST, "/metrics", headers: [("Authorization", "Bearer 0123456789abcdef")]).0?.status,
                       .methodNotAllowed)
        XCTAssertEqual(try send(c, .GET, "/metrics/x", headers: [("Authorization", "Bearer 0123456789abcdef")]).0?.status,
                       .notFound)
    }
}
