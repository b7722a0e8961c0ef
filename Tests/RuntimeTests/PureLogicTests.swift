import XCTest
@testable import Linux
@testable import Runtime
import OCI
import SandboxInterface

final class MountOptionsTests: XCTestCase {
    func testSplitsFlagsPropagationAndData() {
        let o = MountOptions(["nosuid", "strictatime", "mode=755", "size=65536k", "rprivate", "ro"])
        XCTAssertEqual(o.flags, [.noSuid, .strictAtime, .readOnly])
        XCTAssertEqual(o.propagation, [[.private, .recursive]])
        XCTAssertEqual(o.dataString, "mode=755,size=65536k")
    }

    func testLaterOptionsClearEarlierOnes() {
        XCTAssertEqual(MountOptions(["ro", "rw"]).flags, [])
        XCTAssertEqual(MountOptions(["rbind"]).flags, [.bind, .recursive])
        XCTAssertTrue(MountOptions(["bind"]).isBind)
    }

    func testEveryKnownNameIsUnderstood() {
        // knownNames (the features document) and the parser are separate lists: each
        // name must parse as a flag or propagation, never fall through to the data.
        XCTAssertEqual(MountOptions.knownNames.count, 59)
        XCTAssertEqual(Set(MountOptions.knownNames).count, 59)
        for name in MountOptions.knownNames {
            XCTAssertEqual(MountOptions([name]).data, [], name)
        }
        XCTAssertEqual(MountOptions(["mode=755"]).data, ["mode=755"])
    }

    func testJoinedByMatchesJoined() {
        for list in [[], ["a"], ["mode=755", "size=65536k"], ["", "x", ""]] {
            XCTAssertEqual(list.joinedBy(","), list.joined(separator: ","))
        }
    }

    func testRootPropagationDefaultsToRslave() {
        XCTAssertEqual(RootPropagation.beforeSwitch(nil), [[.slave, .recursive]])
        XCTAssertEqual(RootPropagation.beforeSwitch("rprivate"), [[.slave, .recursive], [.private, .recursive]])
    }
}

final class SecureJoinTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = "/tmp/safehouse-securejoin-\(getpid())"
        try Files.makeDirectories(root + "/etc")
        try Files.symlink("/etc", at: root + "/abs")        // absolute: stays in root
        try Files.symlink("../../../../..", at: root + "/up")  // climbing: stops at root
        try Files.symlink("etc/x", at: root + "/rel")
        try Files.symlink("loop", at: root + "/loop")
    }

    override func tearDownWithError() throws { try Files.removeTree(root) }

    func testSymlinksCannotLeaveTheRoot() throws {
        XCTAssertEqual(try SecureJoin.resolve("/abs/passwd", in: root), root + "/etc/passwd")
        XCTAssertEqual(try SecureJoin.resolve("/up/etc/shadow", in: root), root + "/etc/shadow")
        XCTAssertEqual(try SecureJoin.resolve("/../../etc", in: root), root + "/etc")
        XCTAssertEqual(try SecureJoin.resolve("/rel", in: root), root + "/etc/x")
        XCTAssertEqual(try SecureJoin.resolve("/", in: root), root)
    }

    func testLoopsAreAnError() {
        XCTAssertThrowsError(try SecureJoin.resolve("/loop", in: root))
    }
}

/// MountTarget: the walk that follows SecureJoin's check cannot be redirected.
final class MountTargetTests: XCTestCase {
    var base = ""
    var root: String { base + "/root" }
    var outside: String { base + "/outside" }

    override func setUpWithError() throws {
        base = "/tmp/safehouse-mounttarget-\(getpid())"
        try Files.makeDirectories(root + "/mnt/x")
        try Files.makeDirectories(outside)
    }

    override func tearDownWithError() throws { try Files.removeTree(base) }

    /// The race of CVE-2021-30465, made deterministic: the destination is resolved while
    /// /mnt/x is a directory, then x becomes a link to a host directory before the
    /// walk. The walk refuses; nothing is made outside the root.
    func testComponentSwappedForASymlinkAfterTheCheckIsRefused() throws {
        XCTAssertEqual(try SecureJoin.resolve("/mnt/x/y", in: root), root + "/mnt/x/y")
        try Files.removeTree(root + "/mnt/x")
        try Files.symlink(outside, at: root + "/mnt/x")
        XCTAssertThrowsError(try MountTarget.walk(["mnt", "x", "y"], in: root, making: .directory, for: "/mnt/x/y")) {
            XCTAssertTrue("\($0)".contains("mount destination /mnt/x/y"), "\($0)")
        }
        XCTAssertEqual(try Files.list(outside), [], "nothing was made through the link")
        // The final component swapped too (a file target).
        try Files.remove(root + "/mnt/x")
        try Files.makeDirectories(root + "/mnt")
        try Files.symlink(outside + "/f", at: root + "/mnt/f")
        XCTAssertThrowsError(try MountTarget.walk(["mnt", "f"], in: root, making: .file, for: "/mnt/f"))
        XCTAssertFalse(Files.exists(outside + "/f"))
    }

    func testMakesMissingPartsInsideTheRoot() throws {
        try makesMissingPartsInsideTheRoot()
    }

    /// The same, with the root held open (RootfsSetup's case): openat2 beneath it, and
    /// the walk for what openat2 leaves to it.
    func testMakesMissingPartsInsideTheHeldRoot() throws {
        try MountTarget.holdingRoot(root) { try makesMissingPartsInsideTheRoot() }
        // Existing destinations and a missing last component: openat2 alone.
        try MountTarget.holdingRoot(root) {
            let made = try MountTarget.open("/mnt/x/new", in: root, making: .directory)
            XCTAssertEqual(try Files.readLink(made.path), root + "/mnt/x/new")
            let file = try MountTarget.open("/mnt/x/newfile", in: root, making: .file)
            XCTAssertEqual(try Files.readLink(file.path), root + "/mnt/x/newfile")
            XCTAssertThrowsError(try MountTarget.open("/mnt/x/newfile", in: root, making: .directory)) {
                XCTAssertTrue("\($0)".contains("not a directory"), "\($0)")
            }
            // A root other than the held one is walked as before.
            try Files.makeDirectories(outside + "/o")
            let other = try MountTarget.reopen("/o", in: outside)
            XCTAssertEqual(try Files.readLink(other.path), outside + "/o")
        }
    }

    private func makesMissingPartsInsideTheRoot() throws {
        let dir = try MountTarget.open("/a/b/c", in: root, making: .directory)
        XCTAssertTrue(Files.isDirectory(root + "/a/b/c"))
        XCTAssertTrue(dir.path.hasPrefix("/proc/self/fd/"))
        XCTAssertEqual(try Files.readLink(dir.path), root + "/a/b/c")
        _ = try MountTarget.open("/a/file", in: root, making: .file)
        XCTAssertTrue(Files.exists(root + "/a/file") && !Files.isDirectory(root + "/a/file"))
        // A link in the image is followed inside the root, as SecureJoin has it.
        try Files.symlink(outside, at: root + "/abs")
        let through = try MountTarget.open("/abs/d", in: root, making: .directory)
        XCTAssertEqual(try Files.readLink(through.path), root + outside + "/d")
        XCTAssertEqual(try Files.list(outside), [])
        XCTAssertThrowsError(try MountTarget.open("/a/file", in: root, making: .directory))
        // A link as the last component, and "..": both resolved as SecureJoin has it
        // (the direct walk stops at the link and hands over).
        try Files.symlink("/a/b/c", at: root + "/last")
        let last = try MountTarget.open("/last", in: root, making: .directory)
        XCTAssertEqual(try Files.readLink(last.path), root + "/a/b/c")
        let dotted = try MountTarget.open("/abs/../a/./b", in: root, making: .directory)
        // ".." after a link leaves the link's target, not the link: as the kernel would.
        XCTAssertEqual(try Files.readLink(dotted.path), root + base + "/a/b")
        withExtendedLifetime((last, dotted)) {}
        XCTAssertEqual(try Files.list(outside), [])
    }

    func testPlainComponents() {
        XCTAssertEqual(MountTarget.plainComponents(of: "/dev//pts/"), ["dev", "pts"])
        XCTAssertEqual(MountTarget.plainComponents(of: "/"), [])
        XCTAssertEqual(MountTarget.plainComponents(of: "/a/.hidden/..b/..."), ["a", ".hidden", "..b", "..."])
        XCTAssertNil(MountTarget.plainComponents(of: "/a/../b"))
        XCTAssertNil(MountTarget.plainComponents(of: "/a/./b"))
        XCTAssertNil(MountTarget.plainComponents(of: "."))
    }
}

final class SyncMessageTests: XCTestCase {
    func testRoundTrip() {
        let messages: [SyncMessage] = [.needIDMaps, .idMapsWritten, .initPid(42), .readyForRuntimeHooks,
                                       .runtimeHooksDone(state: "{\"a\":1}"), .ready, .failure("pivot_root: x"), .cgroupsApplied, .seccompListenerFollows, .cgroupDirectoriesMade(placement: "1\tpids\t/sys/fs/cgroup/pids\t/\t/sys/fs/cgroup/pids/x")]
        for m in messages { XCTAssertEqual(SyncMessage(decoding: m.encoded()), m) }
        XCTAssertNil(SyncMessage(decoding: []))
        XCTAssertNil(SyncMessage(decoding: [99]))
    }
}

final class BundlePathTests: XCTestCase {
    func testNormalize() {
        XCTAssertEqual(PathText.normalize("/a/./b//c/../d"), "/a/b/d")
        XCTAssertEqual(PathText.normalize("/../.."), "/")
    }
}

final class LogTests: XCTestCase {
    func testJSONStringEscaping() {
        XCTAssertEqual(FlatJSONWriter.quoted("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"")
    }
}

final class SocketActivationTests: XCTestCase {
    func testTakenOnlyWhenListenPidIsOurs() {
        XCTAssertEqual(SocketActivation.parse(listenPid: "42", listenFds: "2", ourPid: 42), SocketActivation(count: 2))
        XCTAssertNil(SocketActivation.parse(listenPid: "41", listenFds: "2", ourPid: 42)) // inherited
        XCTAssertNil(SocketActivation.parse(listenPid: nil, listenFds: "2", ourPid: 42))
        XCTAssertNil(SocketActivation.parse(listenPid: "42", listenFds: nil, ourPid: 42))
        XCTAssertNil(SocketActivation.parse(listenPid: "42", listenFds: "0", ourPid: 42))
        XCTAssertNil(SocketActivation.parse(listenPid: "42", listenFds: "x", ourPid: 42))
    }

    func testProcessEnvironmentNamesPidOne() {
        XCTAssertEqual(SocketActivation(count: 3).environment, ["LISTEN_FDS=3", "LISTEN_PID=1"])
    }
}

final class EgressDecisionsTests: XCTestCase {
    func testAMissingFileIsNoDecisions() {
        XCTAssertEqual(EgressDecisions.read(directory: "/nonexistent-\(getpid())"), [])
    }
}

/// RootfsSetup.deferredMounts: which mounts wait at the end for what the runtime is
/// still making (cgroup directories; the network namespace, for sysfs).
final class DeferredMountsTests: XCTestCase {
    func setup(_ mounts: [(String, String)], sysfsWaits: Bool) -> RootfsSetup<HostKernel> {
        var setup = RootfsSetup(kernel: HostKernel(), spec: Spec(mounts: mounts.map { Mount(destination: $0.1, type: $0.0, source: $0.0) }),
                                rootfs: "/r", bundle: "/b", userNamespace: false, newCgroupNamespace: false,
                                cgroups: CgroupPlacementBox())
        setup.sysfsWaits = sysfsWaits
        return setup
    }

    let runcDefault = [("proc", "/proc"), ("tmpfs", "/dev"), ("devpts", "/dev/pts"), ("tmpfs", "/dev/shm"),
                       ("mqueue", "/dev/mqueue"), ("sysfs", "/sys"), ("cgroup", "/sys/fs/cgroup")]

    func testSysfsMovesWithTheCgroupMountUnderIt() {
        XCTAssertEqual(setup(runcDefault, sysfsWaits: true).deferredMounts(), [false, false, false, false, false, true, true])
        XCTAssertEqual(setup(runcDefault, sysfsWaits: false).deferredMounts(), [false, false, false, false, false, false, true])
    }

    func testAMountThatStaysInPlaceUnderOrOverKeepsTheOrder() {
        // A bind under /sys after it: sysfs must come first, so it stays.
        let withBind = runcDefault + [("bind", "/sys/kernel/x")]
        XCTAssertEqual(setup(withBind, sysfsWaits: true).deferredMounts(), [false, false, false, false, false, false, true, false])
        // A cgroup mount under /dev is filled by the device set-up: never moved.
        XCTAssertEqual(setup([("cgroup", "/dev/cg"), ("proc", "/proc")], sysfsWaits: true).deferredMounts(), [false, false])
        // A later mount over "/" shadows everything: nothing moves past it.
        XCTAssertEqual(setup([("sysfs", "/sys"), ("tmpfs", "/")], sysfsWaits: true).deferredMounts(), [false, false])
    }
}

/// What delete writes as the `exit` record when the warden did not.
final class ExitDetailsTests: XCTestCase {
    func report(_ text: String) -> WardenReport? { WardenReport(document: Array(text.utf8)) }

    func testTheWardensStatusIsUsed() {
        XCTAssertEqual(ContainerRuntime.exitDetails(report: report(#"{"reason":"exited","exitCode":3}"#)), ["code": .int(3)])
        XCTAssertEqual(ContainerRuntime.exitDetails(report: report(#"{"reason":"stopped","exitCode":137,"exitSignal":9}"#)),
                       ["code": .int(137), "signal": .int(9)])
    }

    func testAnUnknownStatusSaysWhy() {
        XCTAssertEqual(ContainerRuntime.exitDetails(report: report(#"{"reason":"exited","exitUnknown":"taskstats: Operation not permitted"}"#)),
                       ["error": .string("exit status unknown: taskstats: Operation not permitted")])
        XCTAssertEqual(ContainerRuntime.exitDetails(report: nil), ["error": .string("exit status unknown: the warden left no report")])
        XCTAssertEqual(ContainerRuntime.exitDetails(report: report(#"{"reason":"exited"}"#)),
                       ["error": .string("exit status unknown: the warden did not watch for it")])
    }
}
