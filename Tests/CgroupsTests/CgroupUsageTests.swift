import XCTest
@testable import Cgroups

/// The live view's reader: the same figures from v1 files and from v2 files.
final class CgroupUsageTests: XCTestCase {
    func testHybridReadsV1Files() throws {
        let (tree, manager) = try FakeCgroupTree.hybrid()
        defer { tree.remove() }
        try tree.file("memory/c/memory.limit_in_bytes", "268435456\n")
        try tree.file("pids/c/pids.max", "64\n")
        try tree.file("pids/c/pids.events", "max 9\n")
        let u = manager.usage()
        XCTAssertEqual(u.cpuNanoseconds, 5000)
        XCTAssertEqual(u.memoryBytes, 4096)
        XCTAssertEqual(u.memoryLimit, 268_435_456)
        XCTAssertEqual(u.oomKills, 3)
        XCTAssertEqual(u.pids, 4)
        XCTAssertEqual(u.pidsLimit, 64)
        XCTAssertEqual(u.forksRefused, 9)
    }

    func testV2ReadsUnifiedFiles() throws {
        let (tree, manager) = try FakeCgroupTree.v2()
        defer { tree.remove() }
        let u = manager.usage()
        XCTAssertEqual(u.cpuNanoseconds, 7000)
        XCTAssertEqual(u.memoryBytes, 4096)
        XCTAssertNil(u.memoryLimit, "memory.max is max")
        XCTAssertEqual(u.oomKills, 2)
        XCTAssertEqual(u.pids, 1)
        XCTAssertNil(u.pidsLimit)
    }

    func testNoLimitSpellings() {
        XCTAssertNil(CgroupManager.limit(nil))
        XCTAssertNil(CgroupManager.limit(UInt64.max))
        XCTAssertNil(CgroupManager.limit(9_223_372_036_854_771_712))
        XCTAssertEqual(CgroupManager.limit(1 << 30), 1 << 30)
    }

    func testRemovedCgroupReadsAsZero() {
        let u = CgroupManager(paths: ["/nonexistent/c"], layout: CgroupLayout(hierarchies: [
            CgroupHierarchy(version: .v2, mountPoint: "/nonexistent", controllers: []),
        ])).usage()
        XCTAssertEqual(u, CgroupUsage())
    }
}
