/// The few figures a live view reads every second from a container's cgroups: CPU
/// time, memory against its limit, tasks against theirs, and how often a limit was
/// hit. `stats()` reads some thirty files (blkio, hugetlb, cpuset among them); this
/// reads the eight or so that these need, so a view of many sandboxes stays cheap.
public struct CgroupUsage: Sendable, Equatable {
    /// CPU time used, nanoseconds (v2 cpu.stat usage_usec, v1 cpuacct.usage).
    public var cpuNanoseconds: UInt64 = 0
    /// Memory in use, bytes (memory.current, v1 memory.usage_in_bytes).
    public var memoryBytes: UInt64 = 0
    /// The memory limit; nil when there is none.
    public var memoryLimit: UInt64?
    /// Tasks in the cgroup (pids.current).
    public var pids: UInt64 = 0
    /// The tasks limit; nil when there is none.
    public var pidsLimit: UInt64?
    /// Processes the kernel's OOM killer killed in the cgroup (memory.events oom_kill,
    /// v1 memory.oom_control oom_kill).
    public var oomKills: UInt64 = 0
    /// Forks refused at the tasks limit (pids.events max).
    public var forksRefused: UInt64 = 0

    public init() {}
}

extension CgroupManager {
    /// Reads `CgroupUsage`. A missing file leaves its figure at zero (or its limit
    /// nil): a cgroup removed between two reads is not an error to a viewer.
    public func usage() -> CgroupUsage {
        var u = CgroupUsage()
        if let (dir, version) = directory(for: "cpu") ?? directory(for: "cpuacct") {
            if version == .v2 {
                u.cpuNanoseconds = (Self.keyValues(dir + "/cpu.stat")["usage_usec"] ?? 0) &* 1000
            } else if let acct = directory(for: "cpuacct") {
                u.cpuNanoseconds = Self.readUInt(acct.path + "/cpuacct.usage") ?? 0
            }
        }
        if let (dir, version) = directory(for: "memory") {
            let (current, max) = version == .v2 ? ("/memory.current", "/memory.max") : ("/memory.usage_in_bytes", "/memory.limit_in_bytes")
            u.memoryBytes = Self.readUInt(dir + current) ?? 0
            u.memoryLimit = Self.limit(Self.readUInt(dir + max))
        }
        u.oomKills = oomEventCount()
        if let dir = directory(for: "pids")?.path {
            u.pids = Self.readUInt(dir + "/pids.current") ?? 0
            u.pidsLimit = Self.limit(Self.readUInt(dir + "/pids.max"))
        }
        u.forksRefused = pidsLimitHits()
        return u
    }

    /// A limit as read ("max" reads as UInt64.max); v1 writes "no limit" as the
    /// largest page-aligned signed value (9223372036854771712): nil for both, and for
    /// a file that is missing.
    static func limit(_ value: UInt64?) -> UInt64? {
        guard let value, value != 0, value < UInt64(Int64.max) & ~UInt64(0xFFFF) else { return nil }
        return value
    }
}
