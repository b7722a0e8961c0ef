import Foundation
@testable import Agent
import XCTest

/// A snapshot's snapshot.json as agent restore reads it back, and the time since a
/// record's creation (what a checkpoint takes off the timeout).
final class SandboxSnapshotTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = NSTemporaryDirectory() + "snapshot-tests-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func write(_ text: String) throws {
        try text.write(toFile: dir + "/" + SandboxSnapshot.fileName, atomically: true, encoding: .utf8)
    }

    func testARoundTripAndItsChecks() throws {
        var snapshot = SandboxSnapshot(source: "agent-1", backend: "gvisor", created: "2026-01-01T00:00:00Z", policy: "default")
        snapshot.layers = ["sha256:" + String(repeating: "a", count: 64)]
        snapshot.timeoutSeconds = 42
        try Data(try JSONEncoder().encode(snapshot)).write(to: URL(fileURLWithPath: dir + "/" + SandboxSnapshot.fileName))
        XCTAssertEqual(try SandboxSnapshot.load(dir), snapshot)

        XCTAssertThrowsError(try SandboxSnapshot.load(dir + "/none")) { XCTAssertTrue("\($0)".contains("not a snapshot (no snapshot.json)")) }
        try write(#"{"version":2,"source":"a","backend":"gvisor","created":"x","policy":"p","rootfs":"/r"}"#)
        XCTAssertThrowsError(try SandboxSnapshot.load(dir)) { XCTAssertTrue("\($0)".contains("version 2")) }
        try write(#"{"version":1,"source":"a","backend":"gvisor","created":"x","policy":"p"}"#)
        XCTAssertThrowsError(try SandboxSnapshot.load(dir)) { XCTAssertTrue("\($0)".contains("neither or both of rootfs and layers")) }
        try write("{not json")
        XCTAssertThrowsError(try SandboxSnapshot.load(dir))
    }

    func testSecondsSinceAnRFC3339Time() {
        XCTAssertNil(SandboxSnapshots.secondsSince("yesterday"))
        let elapsed = SandboxSnapshots.secondsSince("2020-01-01T00:00:00.5Z") ?? 0
        let expected = Date().timeIntervalSince1970 - 1_577_836_800
        XCTAssertLessThan(abs(elapsed - expected), 5)
    }
}
