import Foundation
import XCTest
@testable import Serve

final class WarmPoolTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "warmpool-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/rootfs", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/rootfs")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func record(_ id: String) -> SandboxRecord {
        SandboxRecord(id: id, policy: "default", rootfs: dir + "/rootfs", env: [:], metadata: [:], createdAt: Date(),
                      expiresAt: Date().addingTimeInterval(60), pid: 1, backend: "native", warm: true)
    }

    func testTheFlagIsPolicyRootfsAndCountWithTheRootResolved() throws {
        let target = try WarmPool.Target(parsing: "default:\(dir)/link=3")
        XCTAssertEqual(target.policy, "default")
        XCTAssertEqual(target.rootfs, WarmPool.Target.realPath(dir + "/rootfs"))
        XCTAssertEqual(target.count, 3)
        let options = try ServeOptions(arguments: ["--warm", "default:\(dir)/rootfs=1", "--warm", "web:\(dir)/rootfs=2"])
        XCTAssertEqual(options.warm.map(\.count), [1, 2])
    }

    func testBadValuesNameTheFlag() {
        for bad in ["default", "default=2", "default:\(dir)/rootfs", "default:\(dir)/rootfs=0", "default:\(dir)/rootfs=65",
                    "default:rootfs=1", "default:\(dir)/missing=1", "../etc/p:\(dir)/rootfs=1", ":\(dir)/rootfs=1"] {
            XCTAssertThrowsError(try ServeOptions(arguments: ["--warm", bad]), bad) {
                XCTAssertTrue("\($0)".hasPrefix("--warm: "), "\($0)")
            }
        }
        XCTAssertThrowsError(try ServeOptions(arguments: ["--warm", "default:\(dir)/rootfs=1", "--warm", "default:\(dir)/link=2"])) {
            XCTAssertTrue("\($0)".contains("twice"), "\($0)")
        }
        XCTAssertThrowsError(try ServeOptions(arguments: ["--images", "/usr", "--warm", "default:\(dir)/rootfs=1"])) {
            XCTAssertTrue("\($0)".contains("--images"), "\($0)")
        }
    }

    func testEachSandboxIsTakenOnceAndTheFullPoolRefusesMore() throws {
        let target = try WarmPool.Target(parsing: "default:\(dir)/rootfs=2")
        let pool = WarmPool(targets: [target])
        let spec = Data("spec".utf8)
        XCTAssertEqual(pool.shortfall().first?.1, 2)
        XCTAssertTrue(pool.add(target, .init(record: record("a"), spec: spec)))
        XCTAssertTrue(pool.add(target, .init(record: record("b"), spec: spec)))
        XCTAssertFalse(pool.add(target, .init(record: record("c"), spec: spec)))
        XCTAssertTrue(pool.shortfall().isEmpty)
        XCTAssertEqual(pool.take(target, spec: spec).taken?.id, "a")
        XCTAssertEqual(pool.take(target, spec: spec).taken?.id, "b")
        XCTAssertNil(pool.take(target, spec: spec).taken)
        XCTAssertEqual(pool.shortfall().first?.1, 2)
    }

    func testASandboxOfAnOlderSpecIsStaleNotTaken() throws {
        let target = try WarmPool.Target(parsing: "default:\(dir)/rootfs=2")
        let pool = WarmPool(targets: [target])
        XCTAssertTrue(pool.add(target, .init(record: record("old"), spec: Data("v1".utf8))))
        XCTAssertTrue(pool.add(target, .init(record: record("new"), spec: Data("v2".utf8))))
        let (taken, stale) = pool.take(target, spec: Data("v2".utf8))
        XCTAssertEqual(taken?.id, "new")
        XCTAssertEqual(stale.map(\.id), ["old"])
        XCTAssertEqual(pool.count, 0)
    }

    func testAStoppedPoolHandsBackItsSandboxesAndTakesNoMore() throws {
        let target = try WarmPool.Target(parsing: "default:\(dir)/rootfs=2")
        let pool = WarmPool(targets: [target])
        XCTAssertTrue(pool.add(target, .init(record: record("a"), spec: Data())))
        XCTAssertEqual(pool.stop().map(\.id), ["a"])
        XCTAssertFalse(pool.add(target, .init(record: record("b"), spec: Data())))
        XCTAssertTrue(pool.shortfall().isEmpty)
    }

    func testAFailedFillWaitsBeforeTheNextTry() throws {
        let target = try WarmPool.Target(parsing: "default:\(dir)/rootfs=1")
        let pool = WarmPool(targets: [target])
        pool.failed(target)
        XCTAssertTrue(pool.shortfall().isEmpty)
        XCTAssertEqual(pool.shortfall(now: Date().addingTimeInterval(WarmPool.retryAfter + 1)).count, 1)
    }
}
