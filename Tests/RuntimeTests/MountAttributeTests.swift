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
