import XCTest
import OCI
@testable import Cgroups
@testable import Linux

/// A temporary directory laid out like the kernel's cgroup file systems: each
/// hierarchy's container directory with the files the kernel would create.
struct FakeCgroupTree {
    let root: String

    init(_ name: String) throws {
        root = "/tmp/safehouse-cgroup-\(name)-\(getpid())"
        try? Files.removeTree(root)
        try Files.makeDirectories(root)
    }

    func file(_ path: String, _ content: String = "") throws {
        let full = root + "/" + path
        if let slash = full.lastIndex(of: "/") { try Files.makeDirectories(String(full[..<slash])) }
        try Files.writeAtomically(full, Array(content.utf8))
    }

    func read(_ path: String) -> String? { try? Files.readString(root + "/" + path) }

    func remove() { try? Files.removeTree(root) }

    /// v1 hierarchies as on this machine kind (cpu and cpuacct apart, blkio with no
    /// weight files) plus a unified mount carrying only hugetlb; container at /c.
    static func hybrid() throws -> (FakeCgroupTree, CgroupManager) {
        let t = try FakeCgroupTree("hybrid")
        let v1: [String: [String]] = [
            "memory": ["memory.limit_in_bytes:9223372036854771712", "memory.memsw.limit_in_bytes:9223372036854771712",
                       "memory.soft_limit_in_bytes", "memory.swappiness:60", "memory.oom_control:oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
                       "memory.kmem.tcp.limit_in_bytes", "memory.usage_in_bytes:4096", "memory.max_usage_in_bytes:8192",
                       "memory.failcnt:2", "memory.stat:cache 100\nrss 200\n", "memory.memsw.usage_in_bytes:4096",
                       "memory.memsw.max_usage_in_bytes:8192", "memory.memsw.failcnt:0"],
            "cpu": ["cpu.shares:1024", "cpu.cfs_period_us:100000", "cpu.cfs_quota_us:-1", "cpu.cfs_burst_us:0",
                    "cpu.rt_period_us:1000000", "cpu.rt_runtime_us:0", "cpu.idle:0",
                    "cpu.stat:nr_periods 7\nnr_throttled 2\nthrottled_time 900\n"],
            "cpuacct": ["cpuacct.usage:5000", "cpuacct.usage_percpu:3000 2000 ", "cpuacct.stat:user 3\nsystem 1\n",
                        "cpuacct.usage_all:cpu user system\n0 2500 500\n1 1500 500\n"],
            "cpuset": ["cpuset.cpus:0-1", "cpuset.mems:0", "cpuset.cpu_exclusive:0", "cpuset.sched_load_balance:1"],
            "pids": ["pids.max:max", "pids.current:4"],
            "blkio": ["blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
                      "blkio.throttle.write_iops_device", "blkio.bfq.io_serviced_recursive",
                      "blkio.throttle.io_service_bytes_recursive:8:0 Read 10\n8:0 Write 20\nTotal 30\n",
                      "blkio.throttle.io_serviced_recursive:8:0 Read 1\n8:0 Write 2\nTotal 3\n"],
            "devices": ["devices.allow", "devices.deny"],
            "freezer": ["freezer.state:THAWED", "freezer.self_freezing:0"],
        ]
        var hierarchies: [CgroupHierarchy] = []
        for (ctrl, files) in v1.sorted(by: { $0.key < $1.key }) {
            hierarchies.append(CgroupHierarchy(version: .v1, mountPoint: t.root + "/" + ctrl, controllers: [ctrl]))
            for f in files {
                let parts = f.split(separator: ":", maxSplits: 1).map(String.init)
                try t.file("\(ctrl)/c/\(parts[0])", parts.count > 1 ? parts[1] : "")
            }
        }
        try t.file("unified/cgroup.controllers", "hugetlb\n")
        for f in ["hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max", "cgroup.freeze", "cgroup.events"] {
            try t.file("unified/c/" + f)
        }
        try t.file("unified/c/cgroup.controllers", "hugetlb\n")
        hierarchies.append(CgroupHierarchy(version: .v2, mountPoint: t.root + "/unified", controllers: []))
        let m = try CgroupManager(layout: CgroupLayout(hierarchies: hierarchies), cgroupsPath: "/c", id: "c", callerMembership: [:])
        return (t, m)
    }

    /// A pure cgroup v2 host with the usual controllers enabled for /c.
    static func v2() throws -> (FakeCgroupTree, CgroupManager) {
        let t = try FakeCgroupTree("v2")
        let controllers = "cpuset cpu io memory hugetlb pids"
        try t.file("cgroup.controllers", controllers)
        try t.file("c/cgroup.controllers", controllers)
        for f in ["memory.max:max", "memory.swap.max:max", "memory.low:0", "memory.high:max", "memory.current:4096", "memory.peak:8192",
                  "memory.swap.current:1024", "memory.events:low 0\nhigh 0\nmax 5\noom 1\noom_kill 2\n",
                  "memory.stat:anon 10\nfile 20\n", "cpu.weight:100", "cpu.max:max 100000", "cpu.max.burst:0", "cpu.idle:0",
                  "cpu.stat:usage_usec 7\nuser_usec 5\nsystem_usec 2\nnr_periods 3\nnr_throttled 1\nthrottled_usec 4\n",
                  "cpuset.cpus", "cpuset.mems", "cpuset.cpus.effective:0-1", "cpuset.mems.effective:0",
                  "pids.max:max", "pids.current:1", "io.weight", "io.max", "io.stat:8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0\n",
                  "hugetlb.2MB.max", "hugetlb.2MB.current:0", "cgroup.freeze:0", "cgroup.events:populated 1\nfrozen 0\n"] {
            let parts = f.split(separator: ":", maxSplits: 1).map(String.init)
            try t.file("c/" + parts[0], parts.count > 1 ? parts[1] : "")
        }
        let layout = CgroupLayout(hierarchies: [CgroupHierarchy(version: .v2, mountPoint: t.root, controllers: [])])
        return (t, try CgroupManager(layout: layout, cgroupsPath: "/c", id: "c", callerMembership: [:]))
    }
}

final class CgroupResourceTests: XCTestCase {
    /// Applies through a recorder: every write lands in the fake file and the log.
    func applied(_ m: CgroupManager, _ r: LinuxResources, defaults: Bool = false, root: String) throws -> [String] {
        var log: [String] = []
        try m.apply(resources: r, includeRuncDefaultDevices: defaults) { path, value in
            log.append(String(path.dropFirst(root.count + 1)) + "=" + value)
            try CgroupManager.write(path, value)
        }
        return log
    }

    func testRuncConversions() throws {
        XCTAssertEqual(CgroupManager.cpuWeight(shares: 1024), 39)
        XCTAssertEqual(CgroupManager.cpuWeight(shares: 2), 1)
        XCTAssertEqual(CgroupManager.cpuWeight(shares: 262144), 10000)
        XCTAssertEqual(CgroupManager.cpuWeight(shares: 0), 0)
        XCTAssertEqual(CgroupManager.ioWeight(blkioWeight: 10), 1)
        XCTAssertEqual(CgroupManager.ioWeight(blkioWeight: 1000), 10000)
        XCTAssertEqual(try CgroupManager.swapV2(swap: 0, memory: -1), -1)
        XCTAssertEqual(try CgroupManager.swapV2(swap: 3 << 20, memory: 1 << 20), 2 << 20)
        XCTAssertEqual(try CgroupManager.swapV2(swap: 1 << 20, memory: 1 << 20), 0)
        XCTAssertEqual(try CgroupManager.swapV2(swap: -1, memory: 1 << 20), -1)
        XCTAssertThrowsError(try CgroupManager.swapV2(swap: 1 << 20, memory: 0))
        XCTAssertThrowsError(try CgroupManager.swapV2(swap: 1 << 20, memory: 2 << 20))
        XCTAssertEqual(CgroupManager.sizeName(bytes: 2 << 20), "2MB")
        XCTAssertEqual(CgroupManager.sizeName(bytes: 1 << 30), "1GB")
        XCTAssertEqual(CgroupManager.parseList("0-2,5\n"), [0, 1, 2, 5])
    }

    func testV1WritesEachControllerToItsHierarchy() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        let r = LinuxResources(
            memory: LinuxMemory(limit: 1 << 20, reservation: 1 << 19, swap: 2 << 20, kernel: 1 << 22, kernelTCP: 1 << 21, swappiness: 10, disableOOMKiller: true),
            cpu: LinuxCPU(shares: 512, quota: 50000, burst: 1000, period: 100000, realtimeRuntime: 950, realtimePeriod: 1000, cpus: "0", mems: "0", idle: 1),
            pids: LinuxPids(limit: 64),
            blockIO: LinuxBlockIO(throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1000)],
                                  throttleWriteIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 50)]),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 4 << 20)])
        let log = try applied(m, r, root: t.root)
        XCTAssertEqual(log, [
            "cpuset/c/cpuset.cpus=0", "cpuset/c/cpuset.mems=0",
            // current limit (huge) >= memsw: memory first, then memory+swap.
            "memory/c/memory.limit_in_bytes=1048576", "memory/c/memory.memsw.limit_in_bytes=2097152",
            // no memory.kmem.limit_in_bytes in this tree: skipped without error.
            "memory/c/memory.kmem.tcp.limit_in_bytes=2097152",
            "memory/c/memory.soft_limit_in_bytes=524288", "memory/c/memory.oom_control=1", "memory/c/memory.swappiness=10",
            "cpu/c/cpu.shares=512", "cpu/c/cpu.cfs_period_us=100000", "cpu/c/cpu.cfs_quota_us=50000", "cpu/c/cpu.cfs_burst_us=1000",
            "cpu/c/cpu.rt_period_us=1000", "cpu/c/cpu.rt_runtime_us=950", "cpu/c/cpu.idle=1",
            "pids/c/pids.max=64",
            "blkio/c/blkio.throttle.read_bps_device=8:0 1000", "blkio/c/blkio.throttle.write_iops_device=8:0 50",
            // hybrid: hugetlb is on the unified mount, so the v2 file names.
            "unified/c/hugetlb.2MB.max=4194304", "unified/c/hugetlb.2MB.rsvd.max=4194304",
        ])
        XCTAssertEqual(t.read("pids/c/pids.max"), "64")
    }

    func testV1SwapFirstWhenGrowingAndUnlimitedPids() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        try t.file("memory/c/memory.limit_in_bytes", "1048576")
        let log = try applied(m, LinuxResources(memory: LinuxMemory(limit: 4 << 20, swap: 8 << 20), pids: LinuxPids(limit: 0)), root: t.root)
        XCTAssertEqual(log, ["memory/c/memory.memsw.limit_in_bytes=8388608", "memory/c/memory.limit_in_bytes=4194304", "pids/c/pids.max=max"])
        let unlimited = try applied(m, LinuxResources(memory: LinuxMemory(limit: -1), pids: LinuxPids(limit: -1)), root: t.root)
        XCTAssertEqual(unlimited, ["memory/c/memory.memsw.limit_in_bytes=-1", "memory/c/memory.limit_in_bytes=-1", "pids/c/pids.max=max"])
    }

    func testV1BlkioWeightFailsClearlyWithoutWeightFiles() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        XCTAssertThrowsError(try applied(m, LinuxResources(blockIO: LinuxBlockIO(weight: 500)), root: t.root)) {
            let text = "\($0)"
            XCTAssertTrue(text.hasPrefix("cgroup \(t.root)/blkio/c/blkio.bfq.weight: write 500: no such file or directory"), text)
            XCTAssertTrue(text.contains("no CFQ or BFQ"), text)
        }
        try t.file("blkio/c/blkio.weight")
        try t.file("blkio/c/blkio.weight_device")
        let log = try applied(m, LinuxResources(blockIO: LinuxBlockIO(weight: 500, weightDevice: [LinuxWeightDevice(major: 8, minor: 0, weight: 300)])), root: t.root)
        XCTAssertEqual(log, ["blkio/c/blkio.weight=500", "blkio/c/blkio.weight_device=8:0 300"])
    }

    func testV1DevicesDenyAllFirstThenRulesThenRuncDefaults() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        let r = LinuxResources(devices: [
            LinuxDeviceCgroup(allow: false, access: "rwm"),
            LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 229, access: "rw"),
            LinuxDeviceCgroup(allow: false, type: "b", major: 8, access: "w"),
        ])
        let log = try applied(m, r, defaults: true, root: t.root)
        XCTAssertEqual(Array(log.prefix(5)), [
            "devices/c/devices.deny=a", "devices/c/devices.allow=c 10:229 rw", "devices/c/devices.deny=b 8:* w",
            "devices/c/devices.allow=c *:* m", "devices/c/devices.allow=b *:* m",
        ])
        XCTAssertTrue(log.contains("devices/c/devices.allow=c 1:3 rwm"))
        XCTAssertEqual(log.count, 3 + CgroupManager.runcDefaultDeviceRules.count)
    }

    /// runc's target is a whitelist: a spec without "deny all" (or without any device
    /// rule) still denies every device its rules and the defaults do not allow.
    func testV1DevicesWithoutDenyAllStillStartFromDenyAll() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        let none = try applied(m, LinuxResources(), defaults: true, root: t.root)
        XCTAssertEqual(none.first, "devices/c/devices.deny=a")
        XCTAssertEqual(none.count, 1 + CgroupManager.runcDefaultDeviceRules.count)
        let allowOne = try applied(m, LinuxResources(devices: [LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 229, access: "rw")]), defaults: true, root: t.root)
        XCTAssertEqual(Array(allowOne.prefix(2)), ["devices/c/devices.deny=a", "devices/c/devices.allow=c 10:229 rw"])
        // An explicit "allow all" still wins, as in runc's emulator.
        let allowAll = try applied(m, LinuxResources(devices: [LinuxDeviceCgroup(allow: true, access: "rwm")]), defaults: true, root: t.root)
        XCTAssertEqual(Array(allowAll.prefix(2)), ["devices/c/devices.deny=a", "devices/c/devices.allow=a"])
        // update does not touch devices it was not given.
        XCTAssertEqual(try applied(m, LinuxResources(), defaults: false, root: t.root), [])
    }

    func testValidationAndErrorsNameTheFieldOrFile() throws {
        XCTAssertThrowsError(try CgroupManager.validate(resources: LinuxResources(devices: [LinuxDeviceCgroup(allow: true, type: "x")])))
        XCTAssertThrowsError(try CgroupManager.validate(resources: LinuxResources(devices: [LinuxDeviceCgroup(allow: true, access: "")])))
        XCTAssertThrowsError(try CgroupManager.validate(resources: LinuxResources(memory: LinuxMemory(swappiness: 101))))
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        XCTAssertThrowsError(try applied(m, LinuxResources(hugepageLimits: [LinuxHugepageLimit(pageSize: "64KB", limit: 1)]), root: t.root)) {
            XCTAssertTrue("\($0)".contains("page size \"64KB\""), "\($0)")
        }
        // unified: hugetlb is on v2 here, memory is not.
        XCTAssertEqual(try applied(m, LinuxResources(unified: ["hugetlb.1GB.max": "0"]), root: t.root), ["unified/c/hugetlb.1GB.max=0"])
        XCTAssertThrowsError(try applied(m, LinuxResources(unified: ["memory.high": "1G"]), root: t.root)) {
            XCTAssertTrue("\($0)".contains("the memory controller is not available on the cgroup v2 hierarchy"), "\($0)")
        }
    }

    func testV2WritesWithRuncConversions() throws {
        let (t, m) = try FakeCgroupTree.v2()
        defer { t.remove() }
        let r = LinuxResources(
            memory: LinuxMemory(limit: 1 << 20, reservation: 1 << 19, swap: 3 << 20, kernel: 1 << 20, swappiness: 10, disableOOMKiller: true),
            cpu: LinuxCPU(shares: 1024, quota: 50000, burst: 1000, cpus: "1", idle: 1),
            pids: LinuxPids(limit: 10),
            blockIO: LinuxBlockIO(weight: 500, throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1000)]),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 2 << 20)],
            unified: ["memory.high": "900000", "cgroup.freeze": "0"])
        let log = try applied(m, r, root: t.root)
        XCTAssertEqual(log, [
            "c/cpuset.cpus=1",
            "c/memory.swap.max=2097152", "c/memory.max=1048576", "c/memory.low=524288",
            "c/cpu.weight=39", "c/cpu.max=50000 100000", "c/cpu.max.burst=1000", "c/cpu.idle=1",
            "c/pids.max=10",
            // io.bfq.weight is tried first; without it, io.weight with runc's conversion.
            "c/io.bfq.weight=500", "c/io.weight=4950", "c/io.max=8:0 rbps=1000",
            "c/hugetlb.2MB.max=2097152",
            "c/cgroup.freeze=0", "c/memory.high=900000",
        ])
        XCTAssertEqual(try applied(m, LinuxResources(cpu: LinuxCPU(period: 50000)), root: t.root), ["c/cpu.max=max 50000"])
        XCTAssertEqual(try applied(m, LinuxResources(memory: LinuxMemory(limit: -1)), root: t.root), ["c/memory.swap.max=max", "c/memory.max=max"])
        XCTAssertThrowsError(try applied(m, LinuxResources(cpu: LinuxCPU(realtimeRuntime: 1)), root: t.root))
    }

    func testV2DeviceRulesNeedARealCgroup() throws {
        let (t, m) = try FakeCgroupTree.v2()
        defer { t.remove() }
        // v2 device rules are an eBPF program attached to the cgroup: a plain directory
        // is refused with the bpf call named (DeviceFilterTests cover the real mount).
        XCTAssertThrowsError(try applied(m, LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")]), root: t.root)) {
            XCTAssertTrue("\($0)".contains("BPF_PROG"), "\($0)")
        }
        // At create even a spec without rules gets the (deny-by-default) program.
        XCTAssertThrowsError(try applied(m, LinuxResources(), defaults: true, root: t.root)) {
            XCTAssertTrue("\($0)".contains("BPF_PROG"), "\($0)")
        }
        // update without device rules leaves devices alone.
        XCTAssertEqual(try applied(m, LinuxResources(), defaults: false, root: t.root), [])
    }

    func testRealWriteErrorNamesFileAndValue() {
        XCTAssertThrowsError(try CgroupManager.write("/nonexistent-cgroup/memory.limit_in_bytes", "1048576")) {
            XCTAssertEqual("\($0)", "cgroup /nonexistent-cgroup/memory.limit_in_bytes: write 1048576: no such file or directory")
        }
    }
}

final class CgroupStatsTests: XCTestCase {
    func testV1StatsFromTheHybridTree() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        let s = m.stats()
        XCTAssertEqual(s.cpu.usage.total, 5000)
        XCTAssertEqual(s.cpu.usage.percpu, [3000, 2000])
        XCTAssertEqual(s.cpu.usage.percpuUser, [2500, 1500])
        XCTAssertEqual(s.cpu.usage.user, 30_000_000)
        XCTAssertEqual(s.cpu.throttling.throttledPeriods, 2)
        XCTAssertEqual(s.cpu.throttling.throttledTime, 900)
        XCTAssertEqual(s.memory.usage.usage, 4096)
        XCTAssertEqual(s.memory.usage.max, 8192)
        XCTAssertEqual(s.memory.usage.failcnt, 2)
        XCTAssertEqual(s.memory.cache, 100)
        XCTAssertEqual(s.memory.raw["rss"], 200)
        XCTAssertEqual(s.pids.current, 4)
        XCTAssertEqual(s.pids.limit, 0, "max reads as no limit")
        XCTAssertEqual(s.blkio.ioServiceBytesRecursive.map(\.value), [10, 20], "empty bfq files fall through to throttle")
        XCTAssertEqual(s.cpuset.cpus, [0, 1])
        XCTAssertEqual(m.oomEventCount(), 3)
    }

    func testV2StatsAndRuncJSONShape() throws {
        let (t, m) = try FakeCgroupTree.v2()
        defer { t.remove() }
        let s = m.stats()
        XCTAssertEqual(s.cpu.usage.total, 7000)
        XCTAssertEqual(s.cpu.usage.kernel, 2000)
        XCTAssertEqual(s.cpu.throttling.throttledTime, 4000)
        XCTAssertEqual(s.memory.usage.usage, 4096)
        XCTAssertEqual(s.memory.usage.limit, UInt64.max)
        XCTAssertEqual(s.memory.swap.usage, 4096 + 1024, "v2 swap reported as memory+swap")
        XCTAssertEqual(s.memory.cache, 20)
        XCTAssertEqual(s.blkio.ioServicedRecursive.map(\.op), ["Read", "Write"])
        XCTAssertEqual(m.oomEventCount(), 2)

        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let json = String(decoding: try enc.encode(s), as: UTF8.self)
        XCTAssertTrue(json.contains(#""throttling":{"periods":3,"throttledPeriods":1,"throttledTime":4000}"#), json)
        XCTAssertTrue(json.contains(#""pids":{"current":1}"#), json)
        XCTAssertTrue(json.contains(#""kernelTCP":{"failcnt":0,"limit":0}"#), json)
        XCTAssertTrue(json.contains(#""network_interfaces":null"#), json)
        XCTAssertTrue(json.contains(#""intel_rdt":{}"#), json)
        XCTAssertTrue(json.contains(#""ioServicedRecursive":[{"major":8,"op":"Read","value":1}"#), json)
        XCTAssertEqual(try JSONDecoder().decode(CgroupStats.self, from: Data(json.utf8)), s)
    }

    func testFreezerFilesV1AndV2() throws {
        let (t, m) = try FakeCgroupTree.hybrid()
        defer { t.remove() }
        // A plain file stores what is written, so FROZEN reads back at once.
        try m.freeze()
        XCTAssertEqual(t.read("freezer/c/freezer.state"), "FROZEN")
        try t.file("freezer/c/freezer.self_freezing", "1")
        XCTAssertTrue(m.isFrozen)
        try m.thaw()
        XCTAssertEqual(t.read("freezer/c/freezer.state"), "THAWED")
        XCTAssertFalse(m.isFrozen)

        let (t2, m2) = try FakeCgroupTree.v2()
        defer { t2.remove() }
        try t2.file("c/cgroup.events", "populated 1\nfrozen 1\n")
        try m2.freeze()
        XCTAssertEqual(t2.read("c/cgroup.freeze"), "1")
        XCTAssertTrue(m2.isFrozen)
        try m2.thaw()
        XCTAssertEqual(t2.read("c/cgroup.freeze"), "0")
    }
}
