import XCTest
import OCI
@testable import Cgroups
@testable import Linux

/// The frozen-cgroup check create makes, and the subtree walks of delete and kill,
/// against a fake tree (the real host is exercised by cgroup_lifecycle.bats).
final class CgroupFrozenAndSubtreeTests: XCTestCase {
    func testThawedTreeIsNotFrozen() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        try t.file("unified/c/cgroup.freeze", "0\n")
        XCTAssertNil(m.frozenCgroup())
        XCTAssertNoThrow(try m.refuseIfFrozen())
    }

    func testV1FreezerStateFrozenOrFreezing() throws {
        for state in ["FROZEN", "FREEZING"] {
            let (t, m) = try FakeCgroupTree.hybrid()
            defer { t.remove() }
            try t.file("freezer/c/freezer.state", state + "\n")
            XCTAssertEqual(m.frozenCgroup(), "\(t.root)/freezer/c/freezer.state is \(state)")
            XCTAssertThrowsError(try m.refuseIfFrozen()) { error in
                XCTAssertTrue("\(error)".hasPrefix("linux.cgroupsPath: container's cgroup unexpectedly frozen ("), "\(error)")
            }
        }
    }

    func testV2CgroupFreezeOfTheContainerOrAnAncestor() throws {
        let (t, _) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        // A container at /p/c whose directories do not exist yet, under /p.
        try t.file("unified/p/cgroup.freeze", "1\n")
        let layout = CgroupLayout(hierarchies: [CgroupHierarchy(version: .v2, mountPoint: t.root + "/unified", controllers: [])])
        let m = try CgroupManager(layout: layout, cgroupsPath: "/p/c", id: "c", callerMembership: [:])
        XCTAssertEqual(m.frozenCgroup(), "\(t.root)/unified/p/cgroup.freeze is 1")
        try t.file("unified/p/cgroup.freeze", "0\n")
        XCTAssertNil(m.frozenCgroup())
    }

    func testV1FrozenAncestorOfAContainerNotYetMade() throws {
        let (t, _) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        try t.file("freezer/p/freezer.state", "FROZEN\n")
        let layout = CgroupLayout(hierarchies: [CgroupHierarchy(version: .v1, mountPoint: t.root + "/freezer", controllers: ["freezer"])])
        let m = try CgroupManager(layout: layout, cgroupsPath: "/p/q/c", id: "c", callerMembership: [:])
        XCTAssertEqual(m.frozenCgroup(), "\(t.root)/freezer/p/freezer.state is FROZEN")
    }

    func testDescendantsParentsFirstAndProcessesOfTheWholeSubtree() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        try t.file("pids/c/cgroup.procs", "10\n")
        try t.file("pids/c/a/cgroup.procs", "11\n")
        try t.file("pids/c/a/b/cgroup.procs", "12\n13\n")
        try t.file("memory/c/z/cgroup.procs", "14\n")
        let d = CgroupManager.descendants(of: t.root + "/pids/c")
        XCTAssertEqual(d, [t.root + "/pids/c/a", t.root + "/pids/c/a/b"])
        XCTAssertEqual(m.processes(), [10, 11, 12, 13, 14])
    }

    func testThawSubtreeThawsEveryFrozenLevel() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        try t.file("freezer/c/freezer.state", "FROZEN\n")
        try t.file("freezer/c/a/freezer.state", "FROZEN\n")
        try t.file("unified/c/a/b/cgroup.freeze", "1\n")
        m.thawSubtree()
        XCTAssertEqual(t.read("freezer/c/freezer.state"), "THAWED")
        XCTAssertEqual(t.read("freezer/c/a/freezer.state"), "THAWED")
        XCTAssertEqual(t.read("unified/c/a/b/cgroup.freeze"), "0")
    }
}
