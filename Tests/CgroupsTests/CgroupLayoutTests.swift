import XCTest
@testable import Cgroups
@testable import Linux
import CLinux

/// mountinfo lines as this machine kind has them (hybrid: v1 controllers plus a
/// cgroup2 `unified` mount).
let hybridMountinfo = """
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""

final class CgroupLayoutTests: XCTestCase {
    func testHybridLayout() {
        let layout = CgroupLayout.parse(mountinfo: hybridMountinfo)
        XCTAssertEqual(layout.mode, .hybrid)
        XCTAssertEqual(layout.v1.map(\.procKey), ["cpu", "cpuset", "memory", "pids", "name=systemd"])
        XCTAssertEqual(layout.unified?.mountPoint, "/sys/fs/cgroup/unified")
        XCTAssertEqual(layout.v1.last?.name, "systemd")
    }

    func testPureV2AndV1AndNone() {
        let v2 = CgroupLayout.parse(mountinfo: "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")
        XCTAssertEqual(v2.mode, .v2)
        XCTAssertEqual(v2.unified?.procKey, "")
        let v1 = CgroupLayout.parse(mountinfo: "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n")
        XCTAssertEqual(v1.mode, .v1)
        XCTAssertEqual(v1.v1.first?.procKey, "cpu,cpuacct")
        XCTAssertEqual(CgroupLayout.parse(mountinfo: "").mode, .none)
    }

    func testOnlyV2ReadsJustTheUnifiedMount() {
        let layout = CgroupLayout.parse(mountinfo: hybridMountinfo, onlyV2: true)
        XCTAssertEqual(layout.hierarchies.map(\.mountPoint), ["/sys/fs/cgroup/unified"])
        XCTAssertEqual(CgroupLayout.parse(mountinfo: "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n", onlyV2: true).hierarchies, [])
        // The full parse is unchanged by the cheap pre-filter: non-cgroup lines skipped.
        XCTAssertEqual(CgroupLayout.parse(mountinfo: hybridMountinfo).hierarchies.count, 6)
    }

    /// Lines the field scan must read as mountinfo does: optional fields before the
    /// "-", a mount root other than "/", empty options skipped, options that are no
    /// controller left out, and lines that are not cgroup mounts or not mountinfo.
    func testLineShapes() {
        let text = """
        50 31 0:40 /kubepods /sys/fs/cgroup/blkio rw,nosuid shared:7 master:1 - cgroup cgroup rw,,blkio,clone_children
        51 31 0:41 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
        52 31 0:42 / /sys/fs/cgroup/x rw - cgroup cgroup rw,clone_children
        53 31 0:43 / /sys/fs/cgroup/y rw - cgroup cgroup
        54 31 0:44 / - rw - cgroup cgroup rw,pids
        55 31 0:45 / /sys/fs/cgroup/z rw - cgroup2x cgroup rw
        56 31 0:46 /inner /sys/fs/cgroup/unified rw shared:9 - cgroup2 cgroup2 rw
        """
        let layout = CgroupLayout.parse(mountinfo: text)
        XCTAssertEqual(layout.hierarchies, [
            CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/blkio", mountRoot: "/kubepods", controllers: ["blkio"]),
            CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/net_cls,net_prio", mountRoot: "/", controllers: ["net_cls", "net_prio"]),
            CgroupHierarchy(version: .v2, mountPoint: "/sys/fs/cgroup/unified", mountRoot: "/inner", controllers: []),
        ])
    }

    /// The host's own mountinfo gives the same layout as its /proc/self/cgroup lists:
    /// every hierarchy there (but the v2 one) is one here, with the same key.
    func testTheRealHostsMountinfoMatchesProcSelfCgroup() throws {
        let layout = CgroupLayout.host()
        let lines = try Files.readString("/proc/self/cgroup").split(separator: "\n")
        let keys = lines.compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            return parts.count == 3 && !parts[1].isEmpty ? String(parts[1]) : nil
        }
        XCTAssertEqual(Set(layout.v1.map(\.procKey)), Set(keys))
    }

    func testTheRealHostHasAHierarchy() {
        // This machine kind is hybrid; any Linux host with cgroups has at least one.
        XCTAssertNotEqual(CgroupLayout.host().mode, .none)
    }

    func testPlacementSurvivesTheSyncChannel() throws {
        // What the runtime sends the init, decoded there: every hierarchy (with its
        // controllers, named ones and the unified one) and every path, unchanged.
        let layout = CgroupLayout.parse(mountinfo: hybridMountinfo)
        XCTAssertGreaterThan(layout.hierarchies.count, 3)
        var paths = CgroupPathTable()
        for (i, h) in layout.hierarchies.enumerated() where i != 1 { paths[h.procKey] = h.mountPoint + "/a b/c\(i)" }
        let placement = CgroupPlacement(layout: layout, paths: paths)
        let decoded = CgroupPlacement(decoding: placement.encoded)
        XCTAssertEqual(decoded, placement)
        XCTAssertEqual(decoded.layout.hierarchies.map(\.controllers), layout.hierarchies.map(\.controllers))
        XCTAssertNil(decoded.paths[layout.hierarchies[1].procKey])
        XCTAssertEqual(CgroupPlacement(decoding: ""), CgroupPlacement())
        XCTAssertEqual(layout.hierarchies.first { $0.controllers == ["cpu"] }?.name, "cpu")
        // A hierarchy of two controllers, a mount root other than "/".
        let joint = CgroupLayout(hierarchies: [CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
                                                                mountRoot: "/pod", controllers: ["cpu", "cpuacct"])])
        var jointPaths = CgroupPathTable()
        jointPaths["cpu,cpuacct"] = "/sys/fs/cgroup/cpu,cpuacct/x"
        let two = CgroupPlacement(layout: joint, paths: jointPaths)
        XCTAssertEqual(CgroupPlacement(decoding: two.encoded), two)
    }

    func testMembershipParsing() {
        let m = CgroupMembership.parse("12:pids:/a\n1:name=systemd:/b\n0::/c\n")
        XCTAssertEqual(m["pids"], "/a")
        XCTAssertEqual(m["name=systemd"], "/b")
        XCTAssertEqual(m[""], "/c")
        // The path is everything after the second colon; a line without two is skipped.
        let odd = CgroupMembership.parse("3:cpu,cpuacct:/x:y\nbroken\n4:memory:\n")
        XCTAssertEqual(odd, ["cpu,cpuacct": "/x:y", "memory": ""])
    }
}

final class CgroupPathTests: XCTestCase {
    let layout = CgroupLayout.parse(mountinfo: hybridMountinfo)
    let caller: CgroupPathTable = ["cpu": "/", "cpuset": "/", "memory": "/agent", "pids": "/", "name=systemd": "/", "": "/u"]

    func testAbsolutePathIsFromEachRoot() throws {
        let m = try CgroupManager(layout: layout, cgroupsPath: "/default/c1", id: "c1", callerMembership: caller)
        XCTAssertEqual(m.paths.first, "/sys/fs/cgroup/cpu/default/c1")
        XCTAssertTrue(m.paths.contains("/sys/fs/cgroup/memory/default/c1"))
        XCTAssertTrue(m.paths.contains("/sys/fs/cgroup/unified/default/c1"))
        XCTAssertEqual(m.paths.count, 6, "hybrid: every v1 hierarchy and the unified one")
    }

    func testRelativeOrNoPathIsUnderTheCallersCgroup() throws {
        let none = try CgroupManager(layout: layout, cgroupsPath: nil, id: "c2", callerMembership: caller)
        XCTAssertTrue(none.paths.contains("/sys/fs/cgroup/memory/agent/c2"))
        XCTAssertTrue(none.paths.contains("/sys/fs/cgroup/unified/u/c2"))
        let relative = try CgroupManager(layout: layout, cgroupsPath: "x/y", id: "c3", callerMembership: caller)
        XCTAssertTrue(relative.paths.contains("/sys/fs/cgroup/pids/x/y"))
    }

    func testSystemdAndEscapingPathsAreRefused() {
        XCTAssertThrowsError(try CgroupManager(layout: layout, cgroupsPath: "system.slice:docker:c", id: "c", callerMembership: caller)) {
            XCTAssertTrue("\($0)".hasPrefix("linux.cgroupsPath: "))
        }
        XCTAssertThrowsError(try CgroupManager(layout: layout, cgroupsPath: "/../etc", id: "c", callerMembership: caller))
    }
}

/// Placement against a faithful fake tree in a temporary directory: the cgroup files
/// are plain files there, so this checks which files are written, in what order.
final class CgroupFakeTreeTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = "/tmp/safehouse-cgroup-fake-\(getpid())"
        try Files.makeDirectories(root + "/cpuset")
        try Files.makeDirectories(root + "/pids")
        try Files.writeAtomically(root + "/cpuset/cpuset.cpus", Array("0-1\n".utf8))
        try Files.writeAtomically(root + "/cpuset/cpuset.mems", Array("0\n".utf8))
    }

    override func tearDownWithError() throws { try Files.removeTree(root) }

    func testApplyWritesThePidAndFillsEmptyCpusets() throws {
        let layout = CgroupLayout(hierarchies: [
            CgroupHierarchy(version: .v1, mountPoint: root + "/cpuset", controllers: ["cpuset"]),
            CgroupHierarchy(version: .v1, mountPoint: root + "/pids", controllers: ["pids"]),
        ])
        let m = try CgroupManager(layout: layout, cgroupsPath: "/a/b", id: "b", callerMembership: [:])
        // What the kernel would make on mkdir: a fresh cpuset directory has these
        // files, empty, and every cgroup directory has cgroup.procs.
        for dir in ["/cpuset/a", "/cpuset/a/b"] {
            try Files.makeDirectories(root + dir)
            try Files.writeAtomically(root + dir + "/cpuset.cpus", [])
            try Files.writeAtomically(root + dir + "/cpuset.mems", [])
            try Files.writeAtomically(root + dir + "/cgroup.procs", [])
        }
        try Files.makeDirectories(root + "/pids/a/b")
        try Files.writeAtomically(root + "/pids/a/b/cgroup.procs", [])
        try m.apply(pid: 4242)
        XCTAssertEqual(try Files.readString(root + "/cpuset/a/b/cpuset.cpus"), "0-1")
        XCTAssertEqual(try Files.readString(root + "/cpuset/a/cpuset.mems"), "0")
        XCTAssertEqual(try Files.readString(root + "/pids/a/b/cgroup.procs"), "4242")
        XCTAssertEqual(m.processes(), [4242])
    }
}

final class CgroupVersionFilterTests: XCTestCase {
    func testDirectoriesAndJoinsOfOneVersion() throws {
        let root = "/tmp/safehouse-cgroup-versions-\(getpid())"
        defer { try? Files.removeTree(root) }
        try Files.makeDirectories(root + "/pids")
        try Files.makeDirectories(root + "/unified")
        let layout = CgroupLayout(hierarchies: [
            CgroupHierarchy(version: .v1, mountPoint: root + "/pids", controllers: ["pids"]),
            CgroupHierarchy(version: .v2, mountPoint: root + "/unified", controllers: []),
        ])
        let m = try CgroupManager(layout: layout, cgroupsPath: "/c", id: "c", callerMembership: [:])
        XCTAssertEqual(m.v2Directory, root + "/unified/c")
        try m.makeDirectories(version: .v2)
        XCTAssertTrue(Files.exists(root + "/unified/c"))
        XCTAssertFalse(Files.exists(root + "/pids/c"))
        try m.makeDirectories(version: .v1)
        XCTAssertTrue(Files.exists(root + "/pids/c"))
        try Files.writeAtomically(root + "/pids/c/cgroup.procs", [])
        try Files.writeAtomically(root + "/unified/c/cgroup.procs", [])
        try m.join(pid: 77, version: .v2)
        XCTAssertEqual(try Files.readString(root + "/unified/c/cgroup.procs"), "77")
        XCTAssertEqual(try Files.readString(root + "/pids/c/cgroup.procs"), "")
        // A tasks file that is missing fails in one line naming the directory.
        XCTAssertThrowsError(try CgroupManager.openTasksFiles(in: [root + "/pids/c"])) { error in
            XCTAssertTrue("\(error)".contains(root + "/pids/c/tasks"), "\(error)")
        }
    }
}

/// The real unified (cgroup2) mount of this machine: create, join, list, remove.
final class CgroupUnifiedMountTests: XCTestCase {
    /// The child of fork(intoCgroup:) starts in the directory (no move), and is an
    /// ordinary fork child: glibc's cached thread id (at the address glibc gave
    /// set_tid_address, PR_GET_TID_ADDRESS) is its own, not its parent's, and it exits
    /// with a status its parent reaps.
    func testForkIntoACgroup2Directory() throws {
        guard let unified = CgroupLayout.host().unified else {
            throw XCTSkip("this host has no cgroup2 mount")
        }
        guard getuid() == 0 else { throw XCTSkip("making cgroups needs root") }
        let m = try CgroupManager(layout: CgroupLayout(hierarchies: [unified]), cgroupsPath: "/safehouse-born-\(getpid())",
                                  id: "x", callerMembership: [:])
        try m.makeDirectories()
        defer { try? m.destroy() }
        let dir = try FileDescriptor.open(m.paths[0], O_RDONLY | O_DIRECTORY)
        defer { dir.close() }
        guard let pid = try Processes.fork(intoCgroup: dir) else { throw XCTSkip("this kernel has no CLONE_INTO_CGROUP") }
        if pid == 0 {
            // In the child: the cgroup at birth, then glibc's idea of our thread id.
            let mine = CgroupMembership.of()[""] == "/safehouse-born-\(getppid())"
            var cache: UnsafeMutablePointer<Int32>?
            let asked = withUnsafeMutablePointer(to: &cache) { sh_prctl(40 /* PR_GET_TID_ADDRESS */, UInt(bitPattern: $0), 0, 0, 0) }
            let cached = asked == 0 ? cache?.pointee : nil
            _exit(!mine ? 4 : cached != getpid() ? 5 : 3) // single-threaded: thread id = pid
        }
        let status = try Processes.wait(pid)
        XCTAssertEqual(status, .exited(3), "4: not in its cgroup at birth; 5: glibc's cached thread id is not the child's")
    }


    func testPlaceAChildInARealCgroup2Directory() throws {
        guard let unified = CgroupLayout.host().unified else {
            throw XCTSkip("this host has no cgroup2 mount")
        }
        guard getuid() == 0 else { throw XCTSkip("placing processes in cgroups needs root") }
        let layout = CgroupLayout(hierarchies: [unified])
        let m = try CgroupManager(layout: layout, cgroupsPath: "/safehouse-test-\(getpid())", id: "x", callerMembership: [:])
        let pid = try Processes.fork()
        if pid == 0 { sleep(30); _exit(0) }
        defer { _ = kill(pid, SIGKILL); _ = try? Processes.wait(pid) }
        try m.apply(pid: pid)
        XCTAssertEqual(m.processes(), [pid])
        XCTAssertEqual(CgroupMembership.of(pid: String(pid))[""], "/safehouse-test-\(getpid())")
        _ = kill(pid, SIGKILL)
        _ = try Processes.wait(pid)
        try m.destroy()
        XCTAssertFalse(Files.exists(m.paths[0]))
    }
}
