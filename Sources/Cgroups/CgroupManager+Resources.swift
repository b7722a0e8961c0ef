import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Writes a spec's `linux.resources` into the container's cgroups, controller by
/// controller, each to the hierarchy that carries it (v1 directory, or the unified
/// one: in hybrid mode hugetlb may be on cgroup2 while memory is on v1). File names,
/// value formats, conversions and write order follow runc's libcontainer/cgroups
/// `fs` (v1) and `fs2` (v2).
extension CgroupManager {
    /// A write to one cgroup file. Tests pass a recorder; the runtime uses `write`.
    typealias FileWriter = (_ path: String, _ value: String) throws -> Void

    /// Applies `resources`. Call after `makeDirectories()` and before `join(pid:)`
    /// (runc sets real-time CPU limits before moving a process in, since a
    /// SCHED_RR process cannot join a group without RT bandwidth).
    ///
    /// `includeRuncDefaultDevices` appends runc's always-allowed devices (/dev/null,
    /// /dev/zero, ptys, ...) after the spec's rules, as runc does at create; pass
    /// false for `update`, which does not touch devices.
    public func apply(resources: LinuxResources, includeRuncDefaultDevices: Bool = true) throws {
        let writer = ConsecutiveFileWriter()
        defer { writer.close() }
        try apply(resources: resources, includeRuncDefaultDevices: includeRuncDefaultDevices, write: writer.write)
    }

    func apply(resources r: LinuxResources, includeRuncDefaultDevices: Bool = true, write: FileWriter) throws {
        try Self.validate(resources: r)
        // runc's v1 order: cpuset, devices, memory, cpu, pids, blkio, hugetlb; v2 ends with unified.
        if let cpu = r.cpu { try applyCpuset(cpu, write) }
        try applyDevices(r.devices ?? [], defaults: includeRuncDefaultDevices, write)
        if let memory = r.memory { try applyMemory(memory, write) }
        if let cpu = r.cpu { try applyCPU(cpu, write) }
        if let pids = r.pids { try applyPids(pids, write) }
        if let io = r.blockIO { try applyBlockIO(io, write) }
        if let huge = r.hugepageLimits, !huge.isEmpty { try applyHugetlb(huge, write) }
        if let network = r.network { try applyNetwork(network, write) }
        if let unified = r.unified, !unified.isEmpty { try applyUnified(unified, write) }
    }

    /// Checks that need no host access, so they can run before anything is created.
    public static func validate(resources r: LinuxResources) throws {
        for (i, d) in (r.devices ?? []).enumerated() {
            if let t = d.type, !["a", "b", "c"].contains(t) {
                throw CgroupError(message: "linux.resources.devices[\(i)].type: invalid cgroup device type \"\(t)\" (want a, b or c)")
            }
            if let a = d.access, a.isEmpty || a.contains(where: { !"rwm".contains($0) }) {
                throw CgroupError(message: "linux.resources.devices[\(i)].access: \"\(a)\" must be some of r, w, m (in any order, repeats allowed)")
            }
        }
        if let s = r.memory?.swappiness, s != UInt64.max, s > 100 {
            throw CgroupError(message: "linux.resources.memory.swappiness: invalid value \(s); valid memory swappiness range is 0-100")
        }
        if let key = r.unified?.keys.sorted().first(where: { $0.contains("/") || !$0.contains(".") }) {
            throw CgroupError(message: "linux.resources.unified: \"\(key)\" is not a cgroup file name")
        }
    }

    /// The real writer: O_WRONLY|O_TRUNC as runc's cgroups.WriteFile; errors name the
    /// file and the value ("cgroup /sys/fs/cgroup/memory/x/memory.limit_in_bytes:
    /// write 1048576: device or resource busy").
    static func write(_ path: String, _ value: String) throws {
        let writer = ConsecutiveFileWriter()
        defer { writer.close() }
        try writer.write(path, value)
    }

    /// Self.write, keeping the file open while the writes go to the same file: the
    /// dozen devices.allow rules of every create are one open and a write each
    /// (cgroup files take each write(2) as one value, whatever the offset), instead of
    /// an open, a write and a close each, where the open's walk down the cgroup
    /// path costs more than the write.
    final class ConsecutiveFileWriter {
        private var path = ""
        private var fd: FileDescriptor?

        func write(_ path: String, _ value: String) throws {
            do {
                if path != self.path || fd == nil {
                    close()
                    fd = try FileDescriptor.open(path, O_WRONLY | O_TRUNC)
                    self.path = path
                }
                // A refused write leaves the file open for the next value: one
                // refused rule does not make the file unusable.
                try fd!.write(Array(value.utf8))
            } catch let e as SystemError {
                throw CgroupError(message: "cgroup \(path): write \(value): \(SystemError.message(for: e.errno))", path: path, errno: e.errno)
            }
        }

        func close() {
            fd?.close()
            fd = nil
            path = ""
        }
    }

    /// The directory for `controller`, or an error naming the spec field that needs it.
    func required(_ controller: String, for field: String) throws -> (path: String, version: CgroupHierarchy.Version) {
        if let found = directory(for: controller) { return found }
        throw CgroupError(message: "linux.resources.\(field): the \(controller) cgroup controller is not mounted on this host")
    }

    // MARK: cpuset

    func applyCpuset(_ cpu: LinuxCPU, _ write: FileWriter) throws {
        let cpus = cpu.cpus ?? "", mems = cpu.mems ?? ""
        guard !cpus.isEmpty || !mems.isEmpty else { return }
        let dir = try required("cpuset", for: "cpu.cpus").path
        if !cpus.isEmpty { try write(dir + "/cpuset.cpus", cpus) }
        if !mems.isEmpty { try write(dir + "/cpuset.mems", mems) }
    }

    // MARK: memory

    func applyMemory(_ m: LinuxMemory, _ write: FileWriter) throws {
        let limit = m.limit ?? 0, reservation = m.reservation ?? 0
        var swap = m.swap ?? 0
        let needsDirectory = limit != 0 || reservation != 0 || swap != 0 || m.kernel != nil || m.kernelTCP != nil
            || m.swappiness != nil || m.disableOOMKiller == true
        guard needsDirectory else { return }
        let (dir, version) = try required("memory", for: "memory")
        if version == .v2 {
            try applyMemoryV2(dir: dir, limit: limit, reservation: reservation, swap: swap, check: m.checkBeforeUpdate == true, write)
            // kernel, kernelTCP, swappiness and disableOOMKiller have no v2 files: runc ignores them.
            return
        }
        // v1: memsw is memory+swap, as the spec's `swap`. Unlimited memory with no
        // swap given means unlimited swap too, where swap accounting exists.
        let memsw = dir + "/memory.memsw.limit_in_bytes"
        if limit == -1 && swap == 0 && Files.exists(memsw) { swap = -1 }
        // On update the kernel refuses memsw < memory: raise memsw first when growing.
        var swapFirst = false
        if limit != 0 && swap != 0 {
            let current = Self.readUInt(dir + "/memory.limit_in_bytes") ?? 0
            swapFirst = swap == -1 || current < UInt64(clamping: swap)
        }
        if swapFirst, swap != 0 { try write(memsw, String(swap)) }
        if limit != 0 {
            do { try write(dir + "/memory.limit_in_bytes", String(limit)) } catch let e as CgroupError where e.errno == EBUSY {
                let usage = Self.readUInt(dir + "/memory.usage_in_bytes") ?? 0
                let peak = Self.readUInt(dir + "/memory.max_usage_in_bytes") ?? 0
                throw CgroupError(message: "\(e.message) (unable to set memory limit to \(limit): current usage \(usage), peak usage \(peak))", path: e.path, errno: e.errno)
            }
        }
        if !swapFirst, swap != 0 { try write(memsw, String(swap)) }
        // Kernel memory: written only where the kernel still has the files (removed
        // in Linux 6.x for kmem; runc 1.1 ignores both with a warning).
        for (value, file) in [(m.kernel, "/memory.kmem.limit_in_bytes"), (m.kernelTCP, "/memory.kmem.tcp.limit_in_bytes")] {
            if let k = value, k != 0, Files.exists(dir + file) { try write(dir + file, String(k)) }
        }
        if reservation != 0 { try write(dir + "/memory.soft_limit_in_bytes", String(reservation)) }
        if m.disableOOMKiller == true { try write(dir + "/memory.oom_control", "1") }
        if let s = m.swappiness, s != UInt64.max { try write(dir + "/memory.swappiness", String(s)) }
    }

    func applyMemoryV2(dir: String, limit: Int64, reservation: Int64, swap: Int64, check: Bool, _ write: FileWriter) throws {
        guard limit != 0 || reservation != 0 || swap != 0 else { return }
        if check, limit > 0, let usage = Self.readUInt(dir + "/memory.current"), usage > UInt64(limit) {
            throw CgroupError(message: "linux.resources.memory.limit: \(limit) is below the current usage \(usage) (checkBeforeUpdate)")
        }
        let swapV2 = try Self.swapV2(swap: swap, memory: limit)
        var swapText = Self.v2Number(swapV2)
        if swapText.isEmpty && swapV2 == 0 && swap > 0 { swapText = "0" } // memory == swap: no swap
        if !swapText.isEmpty {
            // ENOENT: no swap accounting in this kernel; "no limit" and "no swap" both hold already.
            do { try write(dir + "/memory.swap.max", swapText) } catch let e as CgroupError where e.errno == ENOENT && (swapText == "max" || swapText == "0") {}
        }
        let max = Self.v2Number(limit)
        if !max.isEmpty { try write(dir + "/memory.max", max) }
        let low = Self.v2Number(reservation)
        if !low.isEmpty { try write(dir + "/memory.low", low) }
    }

    /// runc's ConvertMemorySwapToCgroupV2Value: the spec's swap is memory+swap, v2's
    /// memory.swap.max is swap alone.
    static func swapV2(swap: Int64, memory: Int64) throws -> Int64 {
        if memory == -1 && swap == 0 { return -1 }
        if swap == -1 || swap == 0 { return swap }
        if memory == -1 { return swap }
        if memory == 0 { throw CgroupError(message: "linux.resources.memory.swap: unable to set swap limit without memory limit") }
        if memory < 0 { throw CgroupError(message: "linux.resources.memory.limit: invalid memory value \(memory)") }
        if swap < memory { throw CgroupError(message: "linux.resources.memory.swap: memory+swap limit (\(swap)) should be >= memory limit (\(memory))") }
        return swap - memory
    }

    /// runc's numToStr for v2 .max/.low files: 0 is "leave alone", -1 is "max".
    static func v2Number(_ value: Int64) -> String {
        value == 0 ? "" : value == -1 ? "max" : String(value)
    }

    // MARK: cpu

    /// runc's ConvertCPUSharesToCgroupV2Value (runc 1.1, the one on this host): maps
    /// v1 shares [2, 262144] linearly onto v2 weight [1, 10000]; 1024 -> 39.
    public static func cpuWeight(shares: UInt64) -> UInt64 {
        shares == 0 ? 0 : 1 + ((max(shares, 2) - 2) * 9999) / 262142
    }

    /// runc's ConvertBlkIOToIOWeightValue: blkio weight [10, 1000] to io.weight [1, 10000].
    public static func ioWeight(blkioWeight: UInt16) -> UInt64 {
        blkioWeight == 0 ? 0 : 1 + (UInt64(max(blkioWeight, 10)) - 10) * 9999 / 990
    }

    func applyCPU(_ c: LinuxCPU, _ write: FileWriter) throws {
        let shares = c.shares ?? 0, quota = c.quota ?? 0, period = c.period ?? 0
        let rtRuntime = c.realtimeRuntime ?? 0, rtPeriod = c.realtimePeriod ?? 0
        guard shares != 0 || quota != 0 || period != 0 || c.burst != nil || rtRuntime != 0 || rtPeriod != 0 || c.idle != nil else { return }
        let (dir, version) = try required("cpu", for: "cpu")
        if version == .v2 {
            if rtRuntime != 0 || rtPeriod != 0 {
                throw CgroupError(message: "linux.resources.cpu.realtimeRuntime/realtimePeriod: real-time CPU limits are not supported on cgroup v2")
            }
            if shares != 0 { try write(dir + "/cpu.weight", String(Self.cpuWeight(shares: shares))) }
            if quota != 0 || period != 0 {
                let q = quota > 0 ? String(quota) : "max"
                try write(dir + "/cpu.max", "\(q) \(period == 0 ? 100000 : period)")
            }
            if let b = c.burst { try write(dir + "/cpu.max.burst", String(b)) }
            if let idle = c.idle { try write(dir + "/cpu.idle", String(idle)) }
            return
        }
        if shares != 0 {
            try write(dir + "/cpu.shares", String(shares))
            // The kernel clamps silently: read back and say which bound was hit.
            if let got = Self.readUInt(dir + "/cpu.shares"), got != shares {
                throw CgroupError(message: "linux.resources.cpu.shares: the \(shares > got ? "maximum" : "minimum") allowed cpu-shares is \(got)")
            }
        }
        // A smaller period can be refused (EINVAL) while the old quota stands: set it
        // again after the quota, as runc does.
        var retryPeriod = false
        if period != 0 {
            do { try write(dir + "/cpu.cfs_period_us", String(period)) } catch let e as CgroupError where e.errno == EINVAL {
                retryPeriod = true
            }
        }
        if quota != 0 { try write(dir + "/cpu.cfs_quota_us", String(quota)) }
        if retryPeriod { try write(dir + "/cpu.cfs_period_us", String(period)) }
        if let b = c.burst { try write(dir + "/cpu.cfs_burst_us", String(b)) }
        if rtPeriod != 0 { try write(dir + "/cpu.rt_period_us", String(rtPeriod)) }
        if rtRuntime != 0 { try write(dir + "/cpu.rt_runtime_us", String(rtRuntime)) }
        if let idle = c.idle { try write(dir + "/cpu.idle", String(idle)) }
    }

    // MARK: pids

    func applyPids(_ p: LinuxPids, _ write: FileWriter) throws {
        let dir = try required("pids", for: "pids").path
        // The spec's 0 and -1 both mean "no limit": the file's "max".
        try write(dir + "/pids.max", p.limit > 0 ? String(p.limit) : "max")
    }

    // MARK: block I/O

    func applyBlockIO(_ b: LinuxBlockIO, _ write: FileWriter) throws {
        let throttles: [(devices: [LinuxThrottleDevice]?, v1: String, v2: String)] = [
            (b.throttleReadBpsDevice, "blkio.throttle.read_bps_device", "rbps"),
            (b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device", "wbps"),
            (b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device", "riops"),
            (b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device", "wiops"),
        ]
        let weight = b.weight ?? 0, leaf = b.leafWeight ?? 0
        let anything = weight != 0 || leaf != 0 || !(b.weightDevice ?? []).isEmpty || throttles.contains { !($0.devices ?? []).isEmpty }
        guard anything else { return }
        let (dir, version) = try required(layout.v1.isEmpty ? "io" : "blkio", for: "blockIO")
        if version == .v2 {
            if weight != 0 {
                // io.bfq.weight takes the blkio scale as is; io.weight needs converting.
                do { try write(dir + "/io.bfq.weight", String(weight)) } catch let e as CgroupError where e.errno == ENOENT {
                    try write(dir + "/io.weight", String(Self.ioWeight(blkioWeight: weight)))
                }
            }
            for wd in b.weightDevice ?? [] {
                if let w = wd.weight, w != 0 { try write(dir + "/io.bfq.weight", "\(wd.major):\(wd.minor) \(w)") }
            }
            for t in throttles {
                for d in t.devices ?? [] { try write(dir + "/io.max", "\(d.major):\(d.minor) \(t.v2)=\(d.rate)") }
            }
            return
        }
        // runc picks blkio.weight (CFQ) when present, else the BFQ files. A kernel
        // with neither (this machine kind: only bfq statistics and throttling) fails
        // the write, as runc does; the error says why.
        let cfq = Files.exists(dir + "/blkio.weight")
        let weightFile = cfq ? "blkio.weight" : "blkio.bfq.weight"
        let weightDeviceFile = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device"
        func weighted(_ file: String, _ value: String) throws {
            do { try write(dir + "/" + file, value) } catch let e as CgroupError where e.errno == ENOENT {
                throw CgroupError(message: "\(e.message) (linux.resources.blockIO: this kernel's blkio controller has no weight files: no CFQ or BFQ I/O scheduler)", path: e.path, errno: e.errno)
            }
        }
        if weight != 0 { try weighted(weightFile, String(weight)) }
        if leaf != 0 { try weighted("blkio.leaf_weight", String(leaf)) }
        for wd in b.weightDevice ?? [] {
            if let w = wd.weight, w != 0 { try weighted(weightDeviceFile, "\(wd.major):\(wd.minor) \(w)") }
            if let l = wd.leafWeight, l != 0 { try weighted("blkio.leaf_weight_device", "\(wd.major):\(wd.minor) \(l)") }
        }
        for t in throttles {
            for d in t.devices ?? [] { try write(dir + "/" + t.v1, "\(d.major):\(d.minor) \(d.rate)") }
        }
    }

    // MARK: hugetlb

    func applyHugetlb(_ limits: [LinuxHugepageLimit], _ write: FileWriter) throws {
        let (dir, version) = try required("hugetlb", for: "hugepageLimits")
        for l in limits {
            let base = dir + "/hugetlb.\(l.pageSize)."
            let (limitFile, reservedFile) = version == .v1 ? ("limit_in_bytes", "rsvd.limit_in_bytes") : ("max", "rsvd.max")
            if !Files.exists(base + limitFile) {
                throw CgroupError(message: "linux.resources.hugepageLimits: page size \"\(l.pageSize)\" is not supported by this kernel (no \(base + limitFile))", path: base + limitFile, errno: ENOENT)
            }
            try write(base + limitFile, String(l.limit))
            // Reservations are limited too where the kernel has them (runc 1.1+).
            if Files.exists(base + reservedFile) { try write(base + reservedFile, String(l.limit)) }
        }
    }

    // MARK: network (v1 net_cls / net_prio)

    func applyNetwork(_ n: LinuxNetwork, _ write: FileWriter) throws {
        if let id = n.classID {
            let dir = try required("net_cls", for: "network.classID").path
            try write(dir + "/net_cls.classid", String(id))
        }
        for p in n.priorities ?? [] {
            let dir = try required("net_prio", for: "network.priorities").path
            try write(dir + "/net_prio.ifpriomap", "\(p.name) \(p.priority)")
        }
    }

    // MARK: unified

    func applyUnified(_ values: [String: String], _ write: FileWriter) throws {
        guard let unified = layout.unified, let dir = directory(in: unified) else {
            throw CgroupError(message: "linux.resources.unified: cgroup v2 is not mounted on this host")
        }
        let available = Set(Self.words(in: (try? Files.readString(dir + "/cgroup.controllers")) ?? ""))
        for key in values.keys.sorted() {
            let controller = String(key.prefix { $0 != "." })
            if controller != "cgroup" && !available.contains(controller) {
                let have = available.isEmpty ? "none" : available.sorted().joined(separator: " ")
                throw CgroupError(message: "linux.resources.unified: \"\(key)\": the \(controller) controller is not available on the cgroup v2 hierarchy (\(dir) has: \(have))")
            }
            try write(dir + "/" + key, values[key] ?? "")
        }
    }

    // MARK: reading

    /// A cgroup number; "max" reads as UInt64.max (as runc's GetCgroupParamUint).
    static func readUInt(_ path: String) -> UInt64? {
        guard let text = try? Files.readString(path) else { return nil }
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t == "max" { return UInt64.max }
        if let v = UInt64(t) { return v }
        // Negative values (-1 in some v1 files) mean unlimited.
        if let v = Int64(t), v < 0 { return 0 }
        return nil
    }
}
