import XCTest
import OCI
@testable import Cgroups
@testable import Linux

/// Real cgroups on this machine (root only): a v1 cgroup in every v1 hierarchy plus
/// the unified mount, and a pure-v2-style manager on the unified mount alone.
/// Everything created is removed in `defer`, failures included.
final class CgroupRealHostTests: XCTestCase {
    /// A child that only burns CPU (no Swift runtime calls after fork).
    func spinningChild() throws -> Int32 {
        let pid = try Processes.fork()
        if pid == 0 {
            var x: UInt64 = 0
            while true { x = x &* 6364136223846793005 &+ 1; if x == 42 { _exit(0) } }
        }
        return pid
    }

    /// utime + stime from /proc/PID/stat (fields 14 and 15), in ticks.
    func cpuTicks(_ pid: Int32) -> UInt64 {
        guard let text = try? Files.readString("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return 0 }
        let f = text[text.index(after: close)...].split(separator: " ")
        return (UInt64(f[11]) ?? 0) + (UInt64(f[12]) ?? 0)
    }

    func ticksOver(_ pid: Int32, ms: UInt32 = 300) -> UInt64 {
        let before = cpuTicks(pid)
        usleep(ms * 1000)
        return cpuTicks(pid) - before
    }

    func requireRootAndHybrid() throws -> CgroupLayout {
        guard getuid() == 0 else { throw XCTSkip("real cgroups need root") }
        let layout = CgroupLayout.host()
        guard layout.mode == .hybrid || layout.mode == .v1 else { throw XCTSkip("this test is for v1 hierarchies") }
        return layout
    }

    func testV1LimitsFreezeThawAndStatsOfARealChild() throws {
        let layout = try requireRootAndHybrid()
        let m = try CgroupManager(layout: layout, cgroupsPath: "/safehouse-test-\(getpid())", id: "t", callerMembership: [:])
        var child: Int32 = 0
        defer {
            try? m.thaw()
            if child > 0 { _ = kill(child, SIGKILL); _ = try? Processes.wait(child) }
            XCTAssertNoThrow(try m.destroy())
        }
        try m.makeDirectories()
        try m.apply(resources: LinuxResources(
            devices: [LinuxDeviceCgroup(allow: false, access: "rwm")],
            memory: LinuxMemory(limit: 64 << 20, swap: 128 << 20, swappiness: 0),
            cpu: LinuxCPU(shares: 512, quota: 20000, period: 100000),
            pids: LinuxPids(limit: 32)))
        func dir(_ c: String) throws -> String { try XCTUnwrap(m.directory(for: c)?.path) }
        XCTAssertEqual(try Files.readString(dir("memory") + "/memory.limit_in_bytes"), "\(64 << 20)\n")
        if Files.exists(try dir("memory") + "/memory.memsw.limit_in_bytes") {
            XCTAssertEqual(try Files.readString(dir("memory") + "/memory.memsw.limit_in_bytes"), "\(128 << 20)\n")
        }
        XCTAssertEqual(try Files.readString(dir("pids") + "/pids.max"), "32\n")
        XCTAssertEqual(try Files.readString(dir("cpu") + "/cpu.shares"), "512\n")
        XCTAssertEqual(try Files.readString(dir("cpu") + "/cpu.cfs_quota_us"), "20000\n")
        let allowed = try Files.readString(dir("devices") + "/devices.list")
        XCTAssertTrue(allowed.contains("c 1:3 rwm"), allowed)
        XCTAssertFalse(allowed.contains("a *:* rwm"), allowed)

        child = try spinningChild()
        try m.join(pid: child)
        XCTAssertGreaterThan(ticksOver(child), 0, "running")

        try m.freeze()
        XCTAssertTrue(m.isFrozen)
        usleep(50_000)
        XCTAssertEqual(ticksOver(child), 0, "frozen: no CPU time")
        try m.thaw()
        XCTAssertFalse(m.isFrozen)
        XCTAssertGreaterThan(ticksOver(child), 0, "thawed: running again")

        let s = m.stats()
        XCTAssertGreaterThan(s.cpu.usage.total, 0)
        XCTAssertEqual(s.pids.current, 1)
        XCTAssertEqual(s.pids.limit, 32)
        XCTAssertEqual(s.memory.usage.limit, 64 << 20)
        XCTAssertEqual(s.cpu.usage.percpu.count, Int(sysconf(Int32(_SC_NPROCESSORS_CONF))))
        XCTAssertEqual(m.oomEventCount(), 0)

        // A limit the kernel refuses names the file and value.
        let cpuDir = try dir("cpu")
        XCTAssertThrowsError(try m.apply(resources: LinuxResources(cpu: LinuxCPU(quota: 100))) ) {
            XCTAssertTrue("\($0)".hasPrefix("cgroup \(cpuDir)/cpu.cfs_quota_us: write 100: invalid argument"), "\($0)")
        }
        // This kernel's blkio has no weight files: runc's error, with the reason.
        let blkio = try dir("blkio")
        if !Files.exists(blkio + "/blkio.weight") && !Files.exists(blkio + "/blkio.bfq.weight") {
            XCTAssertThrowsError(try m.apply(resources: LinuxResources(blockIO: LinuxBlockIO(weight: 500)), includeRuncDefaultDevices: false))
        }
    }

    func testV2FreezerAndHugetlbOnTheUnifiedMount() throws {
        guard getuid() == 0 else { throw XCTSkip("real cgroups need root") }
        guard let unified = CgroupLayout.host().unified else { throw XCTSkip("no cgroup2 mount") }
        // The unified hierarchy alone, as a pure v2 host would be.
        let m = try CgroupManager(layout: CgroupLayout(hierarchies: [unified]), cgroupsPath: "/safehouse-test-v2-\(getpid())", id: "t", callerMembership: [:])
        var child: Int32 = 0
        defer {
            try? m.thaw()
            if child > 0 { _ = kill(child, SIGKILL); _ = try? Processes.wait(child) }
            XCTAssertNoThrow(try m.destroy())
        }
        try m.makeDirectories()
        let dir = m.paths[0]
        XCTAssertTrue(Files.exists(dir + "/cgroup.freeze"), "the v2 freezer is core")

        child = try spinningChild()
        try m.join(pid: child)
        try m.freeze()
        XCTAssertTrue(m.isFrozen)
        XCTAssertEqual(CgroupManager.keyValues(dir + "/cgroup.events")["frozen"], 1)
        usleep(50_000)
        XCTAssertEqual(ticksOver(child), 0, "frozen: no CPU time")
        try m.thaw()
        XCTAssertFalse(m.isFrozen)
        XCTAssertGreaterThan(ticksOver(child), 0, "thawed")

        // v2 stats of the child come from cpu.stat, which every v2 cgroup has.
        XCTAssertGreaterThan(m.stats().cpu.usage.total, 0)

        if let size = CgroupManager.hugePageSizes().first(where: { Files.exists(dir + "/hugetlb.\($0).max") }) {
            try m.apply(resources: LinuxResources(hugepageLimits: [LinuxHugepageLimit(pageSize: size, limit: 0)]), includeRuncDefaultDevices: false)
            XCTAssertEqual(try Files.readString(dir + "/hugetlb.\(size).max"), "0\n")
            try m.apply(resources: LinuxResources(unified: ["hugetlb.\(size).max": "max"]), includeRuncDefaultDevices: false)
            XCTAssertEqual(try Files.readString(dir + "/hugetlb.\(size).max"), "max\n")
            XCTAssertNotNil(m.stats().hugetlb[size])
        }
        // Device rules on a pure v2 layout become an eBPF program on the container's cgroup.
        try m.apply(resources: LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")]))
        XCTAssertEqual(try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: dir).count, 1)
        try CgroupManager.removeDeviceFilters(cgroupDirectory: dir)
    }
}
