import Linux

/// Reads `CgroupStats` from the container's cgroups, v1 files or v2 files per
/// controller, with runc's unit conversions (v2 microseconds to nanoseconds, v1
/// cpuacct.stat ticks to nanoseconds, v2 swap reported as memory+swap like v1).
/// Missing files leave zeros: a stats call never fails.
extension CgroupManager {
    public func stats() -> CgroupStats {
        var s = CgroupStats()
        readCPU(into: &s)
        readCpuset(into: &s)
        readMemory(into: &s)
        if let dir = directory(for: "pids")?.path {
            s.pids.current = Self.readUInt(dir + "/pids.current") ?? 0
            let limit = Self.readUInt(dir + "/pids.max") ?? 0
            s.pids.limit = limit == UInt64.max ? 0 : limit
        }
        readBlkio(into: &s)
        readHugetlb(into: &s)
        return s
    }

    // MARK: file formats

    static func text(_ path: String) -> String? { try? Files.readString(path) }

    /// "key value" lines (memory.stat, cpu.stat, cgroup.events).
    static func keyValues(_ path: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in (text(path) ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, let v = UInt64(f[1]) { result[String(f[0])] = v }
        }
        return result
    }

    /// A cpuset list ("0-3,7") as numbers.
    static func parseList(_ text: String) -> [UInt16] {
        var result: [UInt16] = []
        for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let ends = part.split(separator: "-").compactMap { UInt16($0) }
            if ends.count == 1 { result.append(ends[0]) } else if ends.count == 2, ends[0] <= ends[1] { result += Array(ends[0]...ends[1]) }
        }
        return result
    }

    // MARK: cpu

    func readCPU(into s: inout CgroupStats) {
        // cpu.stat: the throttling counts in both versions, and v2's usage (in
        // microseconds); v1's usage is cpuacct's. (No v2 hierarchy has cpuacct.)
        if let (dir, version) = directory(for: "cpu") {
            let kv = Self.keyValues(dir + "/cpu.stat")
            s.cpu.throttling.periods = kv["nr_periods"] ?? 0
            s.cpu.throttling.throttledPeriods = kv["nr_throttled"] ?? 0
            if version == .v2 {
                s.cpu.usage.total = (kv["usage_usec"] ?? 0) * 1000
                s.cpu.usage.user = (kv["user_usec"] ?? 0) * 1000
                s.cpu.usage.kernel = (kv["system_usec"] ?? 0) * 1000
                s.cpu.throttling.throttledTime = (kv["throttled_usec"] ?? 0) * 1000
                return
            }
            s.cpu.throttling.throttledTime = kv["throttled_time"] ?? 0
        }
        guard let acct = directory(for: "cpuacct"), acct.version == .v1 else { return }
        let a = acct.path
        s.cpu.usage.total = Self.readUInt(a + "/cpuacct.usage") ?? 0
        s.cpu.usage.percpu = (Self.text(a + "/cpuacct.usage_percpu") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
        // cpuacct.stat counts USER_HZ (100) ticks; runc reports nanoseconds.
        let ticks = Self.keyValues(a + "/cpuacct.stat")
        s.cpu.usage.user = (ticks["user"] ?? 0) * 10_000_000
        s.cpu.usage.kernel = (ticks["system"] ?? 0) * 10_000_000
        // "cpu user system" then one line per CPU, in nanoseconds.
        for line in (Self.text(a + "/cpuacct.usage_all") ?? "").split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ").compactMap { UInt64($0) }
            guard f.count == 3 else { continue }
            s.cpu.usage.percpuUser.append(f[1])
            s.cpu.usage.percpuKernel.append(f[2])
        }
    }

    func readCpuset(into s: inout CgroupStats) {
        guard let (dir, version) = directory(for: "cpuset") else { return }
        // v2 has only the effective lists (and none of the flags below).
        let effective = version == .v2 ? ".effective" : ""
        s.cpuset.cpus = Self.parseList(Self.text(dir + "/cpuset.cpus" + effective) ?? "")
        s.cpuset.mems = Self.parseList(Self.text(dir + "/cpuset.mems" + effective) ?? "")
        guard version == .v1 else { return }
        func n(_ f: String) -> UInt64 { Self.readUInt(dir + "/cpuset." + f) ?? 0 }
        s.cpuset.cpuExclusive = n("cpu_exclusive")
        s.cpuset.memHardwall = n("mem_hardwall")
        s.cpuset.memExclusive = n("mem_exclusive")
        s.cpuset.memoryMigrate = n("memory_migrate")
        s.cpuset.memorySpreadPage = n("memory_spread_page")
        s.cpuset.memorySpreadSlab = n("memory_spread_slab")
        s.cpuset.memoryPressure = n("memory_pressure")
        s.cpuset.schedLoadBalance = n("sched_load_balance")
        s.cpuset.schedRelaxDomainLevel = Int64((Self.text(dir + "/cpuset.sched_relax_domain_level") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    // MARK: memory

    func readMemory(into s: inout CgroupStats) {
        guard let (dir, version) = directory(for: "memory") else { return }
        s.memory.raw = Self.keyValues(dir + "/memory.stat")
        if version == .v2 {
            s.memory.cache = s.memory.raw["file"] ?? 0
            s.memory.usage.usage = Self.readUInt(dir + "/memory.current") ?? 0
            s.memory.usage.limit = Self.readUInt(dir + "/memory.max") ?? 0
            s.memory.usage.max = Self.readUInt(dir + "/memory.peak") ?? 0
            s.memory.usage.failcnt = Self.keyValues(dir + "/memory.events")["max"] ?? 0
            if let swap = Self.readUInt(dir + "/memory.swap.current") {
                // v1 reports memory+swap: combine so consumers see one meaning.
                s.memory.swap.usage = swap &+ s.memory.usage.usage
                let limit = Self.readUInt(dir + "/memory.swap.max") ?? UInt64.max
                s.memory.swap.limit = limit == UInt64.max ? limit : limit &+ s.memory.usage.limit
                s.memory.swap.failcnt = Self.keyValues(dir + "/memory.swap.events")["max"] ?? 0
            }
            return
        }
        s.memory.cache = s.memory.raw["cache"] ?? 0
        func entry(_ prefix: String) -> CgroupStats.MemoryEntry {
            var e = CgroupStats.MemoryEntry()
            e.usage = Self.readUInt(dir + "/\(prefix).usage_in_bytes") ?? 0
            e.max = Self.readUInt(dir + "/\(prefix).max_usage_in_bytes") ?? 0
            e.failcnt = Self.readUInt(dir + "/\(prefix).failcnt") ?? 0
            e.limit = Self.readUInt(dir + "/\(prefix).limit_in_bytes") ?? 0
            return e
        }
        s.memory.usage = entry("memory")
        s.memory.swap = entry("memory.memsw")
        s.memory.kernel = entry("memory.kmem")
        s.memory.kernelTCP = entry("memory.kmem.tcp")
    }

    // MARK: block I/O

    /// v1 "8:0 Read 1282048" lines (a final "Total N" line is skipped).
    static func blkioEntries(_ path: String) -> [CgroupStats.BlkioEntry]? {
        guard let text = text(path) else { return nil }
        var result: [CgroupStats.BlkioEntry] = []
        for line in text.split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == ":" })
            guard f.count >= 3, let major = UInt64(f[0]), let minor = UInt64(f[1]) else { continue }
            let op = f.count == 4 ? String(f[2]) : ""
            guard let value = UInt64(f[f.count == 4 ? 3 : 2]) else { continue }
            result.append(CgroupStats.BlkioEntry(major: major, minor: minor, op: op, value: value))
        }
        return result
    }

    func readBlkio(into s: inout CgroupStats) {
        if let (dir, version) = directory(for: layout.v1.isEmpty ? "io" : "blkio"), version == .v2 {
            readIoStat(dir: dir, into: &s)
            return
        }
        guard let dir = directory(for: "blkio")?.path else { return }
        typealias Field = WritableKeyPath<CgroupStats.Blkio, [CgroupStats.BlkioEntry]>
        // runc's order: the first group whose first file has entries wins.
        let groups: [[(String, Field)]] = [
            [("blkio.bfq.sectors_recursive", \.sectorsRecursive), ("blkio.bfq.io_service_time_recursive", \.ioServiceTimeRecursive),
             ("blkio.bfq.io_wait_time_recursive", \.ioWaitTimeRecursive), ("blkio.bfq.io_merged_recursive", \.ioMergedRecursive),
             ("blkio.bfq.io_queued_recursive", \.ioQueuedRecursive), ("blkio.bfq.time_recursive", \.ioTimeRecursive),
             ("blkio.bfq.io_serviced_recursive", \.ioServicedRecursive), ("blkio.bfq.io_service_bytes_recursive", \.ioServiceBytesRecursive)],
            [("blkio.bfq.io_serviced_recursive", \.ioServicedRecursive), ("blkio.bfq.io_service_bytes_recursive", \.ioServiceBytesRecursive)],
            [("blkio.sectors_recursive", \.sectorsRecursive), ("blkio.io_service_time_recursive", \.ioServiceTimeRecursive),
             ("blkio.io_wait_time_recursive", \.ioWaitTimeRecursive), ("blkio.io_merged_recursive", \.ioMergedRecursive),
             ("blkio.io_queued_recursive", \.ioQueuedRecursive), ("blkio.time_recursive", \.ioTimeRecursive),
             ("blkio.io_serviced_recursive", \.ioServicedRecursive), ("blkio.io_service_bytes_recursive", \.ioServiceBytesRecursive)],
            [("blkio.throttle.io_serviced_recursive", \.ioServicedRecursive), ("blkio.throttle.io_service_bytes_recursive", \.ioServiceBytesRecursive)],
            [("blkio.throttle.io_serviced", \.ioServicedRecursive), ("blkio.throttle.io_service_bytes", \.ioServiceBytesRecursive)],
        ]
        for group in groups {
            guard let first = Self.blkioEntries(dir + "/" + group[0].0), !first.isEmpty else { continue }
            var b = CgroupStats.Blkio()
            b[keyPath: group[0].1] = first
            for (file, field) in group.dropFirst() { b[keyPath: field] = Self.blkioEntries(dir + "/" + file) ?? [] }
            s.blkio = b
            return
        }
    }

    /// v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...") mapped to v1's tables.
    func readIoStat(dir: String, into s: inout CgroupStats) {
        for line in (Self.text(dir + "/io.stat") ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            guard let dev = f.first else { continue }
            let mm = dev.split(separator: ":").compactMap { UInt64($0) }
            guard mm.count == 2 else { continue }
            for item in f.dropFirst() {
                let kv = item.split(separator: "=")
                guard kv.count == 2, let v = UInt64(kv[1]) else { continue }
                let entry = { (op: String) in CgroupStats.BlkioEntry(major: mm[0], minor: mm[1], op: op, value: v) }
                switch kv[0] {
                case "rbytes": s.blkio.ioServiceBytesRecursive.append(entry("Read"))
                case "wbytes": s.blkio.ioServiceBytesRecursive.append(entry("Write"))
                case "rios": s.blkio.ioServicedRecursive.append(entry("Read"))
                case "wios": s.blkio.ioServicedRecursive.append(entry("Write"))
                default: continue
                }
            }
        }
    }

    // MARK: hugetlb

    /// The host's huge page sizes as runc names them: hugepages-2048kB -> "2MB".
    static func hugePageSizes(sysfs: String = "/sys/kernel/mm/hugepages") -> [String] {
        ((try? Files.list(sysfs)) ?? []).compactMap { name -> String? in
            guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"),
                  let kb = UInt64(name.dropFirst("hugepages-".count).dropLast(2)) else { return nil }
            return sizeName(bytes: kb * 1024)
        }.sorted()
    }

    /// 2097152 -> "2MB", 1073741824 -> "1GB" (binary units, runc's CustomSize).
    static func sizeName(bytes: UInt64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var value = bytes, i = 0
        while value >= 1024 && value % 1024 == 0 && i < units.count - 1 { value /= 1024; i += 1 }
        return "\(value)\(units[i])"
    }

    func readHugetlb(into s: inout CgroupStats) {
        guard let (dir, version) = directory(for: "hugetlb") else { return }
        for size in Self.hugePageSizes() {
            let base = dir + "/hugetlb.\(size)."
            var h = CgroupStats.Hugetlb()
            if version == .v1 {
                guard Files.exists(base + "usage_in_bytes") else { continue }
                h.usage = Self.readUInt(base + "usage_in_bytes") ?? 0
                h.max = Self.readUInt(base + "max_usage_in_bytes") ?? 0
                h.failcnt = Self.readUInt(base + "failcnt") ?? 0
            } else {
                guard Files.exists(base + "current") else { continue }
                h.usage = Self.readUInt(base + "rsvd.current") ?? Self.readUInt(base + "current") ?? 0
                h.failcnt = Self.keyValues(base + "events")["max"] ?? 0
            }
            s.hugetlb[size] = h
        }
    }
}
