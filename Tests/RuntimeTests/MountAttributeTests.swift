import XCTest
@testable import Runtime

/// The recursive mount attributes of config.md ("rro", "rnosuid"...) and the tty group
/// lookup of the terminal's owner.
final class MountAttributeTests: XCTestCase {
    func testRecursiveAttributesAreSetAndCleared() {
        let o = MountOptions(["rbind", "rro", "rnosuid", "rexec", "rnosymfollow"])
        XCTAssertEqual(o.flags, [.bind, .recursive])
        XCTAssertEqual(o.recursiveSet, [.readOnly, .noSuid, .noSymFollow])
        XCTAssertEqual(o.recursiveClear, [.noExec])
        XCTAssertEqual(o.data, [])
        XCTAssertTrue(o.hasRecursiveAttributes)
        XCTAssertFalse(MountOptions(["rbind", "ro"]).hasRecursiveAttributes)
    }

    func testLaterRecursiveOptionWins() {
        let o = MountOptions(["rro", "rrw", "rnodev", "rdev", "rdev", "rnodev"])
        XCTAssertEqual(o.recursiveSet, [.noDev])
        XCTAssertEqual(o.recursiveClear, [.readOnly])
    }

    func testAtimeModeIsOneChoice() {
        XCTAssertEqual(MountOptions(["rnoatime", "rstrictatime"]).recursiveSet, [.strictAtime])
        XCTAssertEqual(MountOptions(["rstrictatime", "ratime"]).recursiveSet, [.relatime])
        XCTAssertEqual(MountOptions(["rnoatime"]).recursiveSet, [.noAtime])
        XCTAssertEqual(MountOptions(["rnoatime", "rnorelatime"]).recursiveSet, [.noAtime])
        XCTAssertEqual(MountOptions(["rnorelatime"]).data, [])
    }

    func testTtyGroupFromGroupFile() {
        let file = Array("root:x:0:\ntty:x:5:\nttyusers:x:7:a,b\n".utf8)
        XCTAssertEqual(TerminalOwnership.groupID(named: "tty", inGroupFile: file), 5)
        XCTAssertEqual(TerminalOwnership.groupID(named: "ttyusers", inGroupFile: file), 7)
        XCTAssertNil(TerminalOwnership.groupID(named: "wheel", inGroupFile: file))
        XCTAssertNil(TerminalOwnership.groupID(named: "tty", inGroupFile: Array("tty:x:\n".utf8)))
        XCTAssertEqual(TerminalOwnership.groupID(named: "tty", inGroupFile: Array("tty:x:4".utf8)), 4)
    }
}

/// rootfsPropagation before and after the switch of root, and the mountinfo parsing.
final class RootPropagationTests: XCTestCase {
    func testSharedRootIsAppliedAfterTheSwitch() {
        XCTAssertEqual(RootPropagation.beforeSwitch("shared"), [[.slave, .recursive], .shared])
        XCTAssertEqual(RootPropagation.beforeSwitch("rshared"), [[.slave, .recursive], [.shared, .recursive]])
        XCTAssertTrue(RootPropagation.needsPrivateParent("shared"))
        XCTAssertEqual(RootPropagation.afterSwitch("shared"), .shared)
        XCTAssertEqual(RootPropagation.afterSwitch("rshared"), [.shared, .recursive])
        XCTAssertNil(RootPropagation.afterSwitch(nil))
    }

    func testUnbindableRootStaysBindableUntilTheSwitch() {
        XCTAssertEqual(RootPropagation.beforeSwitch("unbindable"), [[.slave, .recursive], .unbindable])
        XCTAssertTrue(RootPropagation.needsPrivateParent("unbindable"))
        XCTAssertEqual(RootPropagation.beforeSwitch("runbindable"), [[.slave, .recursive]])
        XCTAssertEqual(RootPropagation.beforeSwitch("slave"), [[.slave, .recursive]])
        XCTAssertFalse(RootPropagation.needsPrivateParent("runbindable"))
        XCTAssertEqual(RootPropagation.afterSwitch("runbindable"), [.unbindable, .recursive])
        XCTAssertFalse(RootPropagation.needsPrivateParent("slave"))
    }

    func testMountInfoEscapes() {
        XCTAssertEqual(MountInfoText.unescape(ArraySlice("/a\\040b\\134c".utf8)), "/a b\\c")
        XCTAssertEqual(MountInfoText.unescape(ArraySlice("/plain".utf8)), "/plain")
        XCTAssertEqual(MountInfoText.unescape(ArraySlice("/x\\04".utf8)), "/x\\04")
    }

    func testParentTest() {
        XCTAssertTrue(RootPropagation.isSameOrParent("/", of: "/x"))
        XCTAssertTrue(RootPropagation.isSameOrParent("/a/b", of: "/a/b"))
        XCTAssertTrue(RootPropagation.isSameOrParent("/a", of: "/a/b"))
        XCTAssertFalse(RootPropagation.isSameOrParent("/a", of: "/ab"))
    }
}

/// The host's proc and sysfs mounts that --no-pivot must hide.
final class NoPivotRootTests: XCTestCase {
    func testFullProcAndSysfsOutsideTheRootfs() {
        let table = """
        22 27 0:21 / /proc rw,relatime - proc proc rw
        23 27 0:22 / /sys rw,relatime shared:3 master:1 - sysfs sysfs rw
        24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw
        30 22 0:21 /sys /proc/sys ro,relatime - proc proc rw
        31 27 0:40 / /my\\040root/proc rw - proc proc rw
        32 27 0:41 / /my\\040root/sys rw - sysfs sysfs ro
        33 27 0:42 / /my\\040rootfs/proc rw - proc proc rw
        """
        let points = NoPivotRoot.fullPseudoFilesystemMounts(in: Array(table.utf8), outside: "/my root")
        // Not /proc/sys (not the file system's root), not the rootfs's own.
        XCTAssertEqual(points, ["/proc", "/sys", "/my rootfs/proc"])
    }
}
