import Foundation
import Images
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import Serve
import XCTest

/// The snapshot routes and a create with `snapshot` in an EmbeddedChannel: names, the
/// fields refused with a snapshot, unknown snapshots and sandboxes, the list and a
/// removal over a snapshot directory the test writes. No runtime is run.
final class SnapshotRouteTests: XCTestCase {
    private var stateDir = ""

    override func setUp() {
        stateDir = NSTemporaryDirectory() + "serve-snapshot-tests-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    private func channel() throws -> EmbeddedChannel {
        let runtime = RuntimeClient(executable: "/bin/false", root: stateDir + "/root")
        let store = SandboxStore(runtime: runtime, records: RecordDirectory(path: stateDir + "/state"),
                                 images: SandboxImages(store: try ImageStore(root: stateDir + "/images")))
        store.snapshots = stateDir + "/snapshots"
        return EmbeddedChannel(handler: APIHandler(routes: Routes(store: store, version: "test"), token: nil, offload: { $0() }))
    }

    private func send(_ channel: EmbeddedChannel, _ method: HTTPMethod, _ uri: String, body: String? = nil) throws -> (HTTPResponseStatus, [String: Any]) {
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri)))
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
        return (response.status, data.isEmpty ? [:] : (try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]))
    }

    private func message(_ json: [String: Any]) -> String {
        (json["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    func testNamesAndFieldsAreChecked() throws {
        let c = try channel()
        var (status, json) = try send(c, .POST, "/v1/sandboxes", body: #"{"snapshot": "../up"}"#)
        XCTAssertEqual(status, .badRequest)
        XCTAssertTrue(message(json).hasPrefix("snapshot: "), message(json))
        for field in ["policy", "rootfs", "image", "env"] {
            (status, json) = try send(c, .POST, "/v1/sandboxes", body: #"{"snapshot": "s", "\#(field)": "x"}"#)
            XCTAssertEqual(status, .badRequest, field)
            XCTAssertEqual(message(json), "\(field): not with snapshot (the snapshot's own is used)")
        }
        (status, json) = try send(c, .POST, "/v1/sandboxes", body: #"{"snapshot": "s", "timeout": 0}"#)
        XCTAssertTrue(message(json).hasPrefix("timeout: "), message(json))
        (status, json) = try send(c, .POST, "/v1/sandboxes", body: #"{"snapshot": "missing"}"#)
        XCTAssertEqual(status, .notFound)
        XCTAssertEqual(message(json), "no snapshot missing")
        (status, json) = try send(c, .POST, "/v1/sandboxes/sbx-none/snapshot", body: #"{"name": "s"}"#)
        XCTAssertEqual(status, .notFound)
        XCTAssertEqual(message(json), "no sandbox \"sbx-none\"")
        for name in [".hidden", "a/b", String(repeating: "x", count: 129), ""] {
            XCTAssertThrowsError(try SandboxStore.checkSnapshotName(name, field: "name"), name)
        }
        XCTAssertNoThrow(try SandboxStore.checkSnapshotName("after-install_2.v1", field: "name"))
        (status, _) = try send(c, .PUT, "/v1/snapshots")
        XCTAssertEqual(status, .methodNotAllowed)
        (status, _) = try send(c, .GET, "/v1/snapshots?x=1")
        XCTAssertEqual(status, .badRequest)
    }

    func testListGetAndDeleteReadTheSnapshotDirectory() throws {
        let c = try channel()
        var (status, json) = try send(c, .GET, "/v1/snapshots")
        XCTAssertEqual(status, .ok)
        XCTAssertEqual((json["snapshots"] as? [Any])?.count, 0)
        let dir = stateDir + "/snapshots/kept"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let facts = SandboxStore.SnapshotFacts(name: "kept", source: "sbx-1", policy: "default", rootfs: "/srv/bb", image: nil,
                                               backend: "gvisor", createdAt: Date(timeIntervalSince1970: 1_800_000_000),
                                               timeoutSeconds: 120, env: ["A": "1"], metadata: ["k": "v"])
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(facts).write(to: URL(fileURLWithPath: dir + "/" + SandboxStore.snapshotFactsFile))
        (status, json) = try send(c, .GET, "/v1/snapshots")
        let listed = (json["snapshots"] as? [[String: Any]]) ?? []
        XCTAssertEqual(listed.map { $0["name"] as? String }, ["kept"])
        XCTAssertEqual(listed.first?["timeout"] as? Int, 120)
        XCTAssertEqual(listed.first?["rootfs"] as? String, "/srv/bb")
        XCTAssertNil(listed.first?["env"], "the env is the service's, not shown")
        (status, json) = try send(c, .GET, "/v1/snapshots/kept")
        XCTAssertEqual(status, .ok)
        XCTAssertEqual(json["source"] as? String, "sbx-1")
        (status, _) = try send(c, .DELETE, "/v1/snapshots/kept")
        XCTAssertEqual(status, .noContent)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
        (status, json) = try send(c, .DELETE, "/v1/snapshots/kept")
        XCTAssertEqual(status, .notFound)
    }
}
