// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Control groups").
//
// Integer widths follow the Go types: memory values are Int64 because -1 means
// "unlimited"; weights are UInt16; rates and shares are UInt64.

/// cgroup limits (`linux.resources`).
public struct LinuxResources: Codable, Sendable, Equatable {
    /// The device allowlist, applied in order.
    public var devices: [LinuxDeviceCgroup]?
    /// Memory limits.
    public var memory: LinuxMemory?
    /// CPU limits.
    public var cpu: LinuxCPU?
    /// Process-count limit.
    public var pids: LinuxPids?
    /// Block I/O weights and throttles.
    public var blockIO: LinuxBlockIO?
    /// Huge page limits, one entry per page size.
    public var hugepageLimits: [LinuxHugepageLimit]?
    /// Network class id and priorities (cgroup v1 net_cls / net_prio).
    public var network: LinuxNetwork?
    /// RDMA limits, keyed by device name.
    public var rdma: [String: LinuxRdma]?
    /// Raw cgroup v2 files and values, e.g. "memory.high": "1G".
    public var unified: [String: String]?

    /// Creates resource limits.
    public init(devices: [LinuxDeviceCgroup]? = nil, memory: LinuxMemory? = nil, cpu: LinuxCPU? = nil, pids: LinuxPids? = nil, blockIO: LinuxBlockIO? = nil, hugepageLimits: [LinuxHugepageLimit]? = nil, network: LinuxNetwork? = nil, rdma: [String: LinuxRdma]? = nil, unified: [String: String]? = nil) {
        self.devices = devices
        self.memory = memory
        self.cpu = cpu
        self.pids = pids
        self.blockIO = blockIO
        self.hugepageLimits = hugepageLimits
        self.network = network
        self.rdma = rdma
        self.unified = unified
    }
}

/// One device cgroup rule (`linux.resources.devices[]`).
public struct LinuxDeviceCgroup: Codable, Sendable, Equatable {
    /// Allow (true) or deny (false).
    public var allow: Bool
    /// "a" (all), "c" or "b"; all when absent.
    public var type: String?
    /// The major number; all when absent.
    public var major: Int64?
    /// The minor number; all when absent.
    public var minor: Int64?
    /// Some of "r", "w", "m".
    public var access: String?

    /// Creates a rule.
    public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }
}

/// Memory limits (`linux.resources.memory`), in bytes; -1 means unlimited.
public struct LinuxMemory: Codable, Sendable, Equatable {
    /// The hard limit.
    public var limit: Int64?
    /// The soft limit.
    public var reservation: Int64?
    /// The limit of memory plus swap.
    public var swap: Int64?
    /// Kernel memory limit; deprecated by the spec (not supported since Linux 5.4).
    public var kernel: Int64?
    /// Kernel TCP buffer limit; not recommended by the spec.
    public var kernelTCP: Int64?
    /// Swappiness, 0...100 (cgroup v1).
    public var swappiness: UInt64?
    /// Disable the OOM killer (cgroup v1).
    public var disableOOMKiller: Bool?
    /// Hierarchical accounting (cgroup v1).
    public var useHierarchy: Bool?
    /// On update, refuse a limit below current usage.
    public var checkBeforeUpdate: Bool?

    /// Creates memory limits.
    public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil, kernel: Int64? = nil, kernelTCP: Int64? = nil, swappiness: UInt64? = nil, disableOOMKiller: Bool? = nil, useHierarchy: Bool? = nil, checkBeforeUpdate: Bool? = nil) {
        self.limit = limit
        self.reservation = reservation
        self.swap = swap
        self.kernel = kernel
        self.kernelTCP = kernelTCP
        self.swappiness = swappiness
        self.disableOOMKiller = disableOOMKiller
        self.useHierarchy = useHierarchy
        self.checkBeforeUpdate = checkBeforeUpdate
    }
}

/// CPU limits (`linux.resources.cpu`); times in microseconds.
public struct LinuxCPU: Codable, Sendable, Equatable {
    /// Relative weight (cgroup v1 shares; converted to a v2 weight).
    public var shares: UInt64?
    /// Allowed CPU time per period; -1 for no limit.
    public var quota: Int64?
    /// Extra CPU time a period may borrow.
    public var burst: UInt64?
    /// The period of `quota`.
    public var period: UInt64?
    /// Real-time runtime per period.
    public var realtimeRuntime: Int64?
    /// Real-time period.
    public var realtimePeriod: UInt64?
    /// The cpuset's CPUs, e.g. "0-3,7".
    public var cpus: String?
    /// The cpuset's memory nodes, e.g. "0-1".
    public var mems: String?
    /// 1 makes the cgroup SCHED_IDLE; 0 is the default.
    public var idle: Int64?

    /// Creates CPU limits.
    public init(shares: UInt64? = nil, quota: Int64? = nil, burst: UInt64? = nil, period: UInt64? = nil, realtimeRuntime: Int64? = nil, realtimePeriod: UInt64? = nil, cpus: String? = nil, mems: String? = nil, idle: Int64? = nil) {
        self.shares = shares
        self.quota = quota
        self.burst = burst
        self.period = period
        self.realtimeRuntime = realtimeRuntime
        self.realtimePeriod = realtimePeriod
        self.cpus = cpus
        self.mems = mems
        self.idle = idle
    }
}

/// The process-count limit (`linux.resources.pids`).
public struct LinuxPids: Codable, Sendable, Equatable {
    /// The maximum number of tasks; 0 or -1 means no limit.
    public var limit: Int64

    /// Creates a pids limit.
    public init(limit: Int64) {
        self.limit = limit
    }
}

/// Block I/O settings (`linux.resources.blockIO`).
public struct LinuxBlockIO: Codable, Sendable, Equatable {
    /// The cgroup's weight, 10...1000.
    public var weight: UInt16?
    /// The weight against child cgroups (CFQ only).
    public var leafWeight: UInt16?
    /// Per-device weights.
    public var weightDevice: [LinuxWeightDevice]?
    /// Per-device read limits in bytes per second.
    public var throttleReadBpsDevice: [LinuxThrottleDevice]?
    /// Per-device write limits in bytes per second.
    public var throttleWriteBpsDevice: [LinuxThrottleDevice]?
    /// Per-device read limits in operations per second.
    public var throttleReadIOPSDevice: [LinuxThrottleDevice]?
    /// Per-device write limits in operations per second.
    public var throttleWriteIOPSDevice: [LinuxThrottleDevice]?

    /// Creates block I/O settings.
    public init(weight: UInt16? = nil, leafWeight: UInt16? = nil, weightDevice: [LinuxWeightDevice]? = nil, throttleReadBpsDevice: [LinuxThrottleDevice]? = nil, throttleWriteBpsDevice: [LinuxThrottleDevice]? = nil, throttleReadIOPSDevice: [LinuxThrottleDevice]? = nil, throttleWriteIOPSDevice: [LinuxThrottleDevice]? = nil) {
        self.weight = weight
        self.leafWeight = leafWeight
        self.weightDevice = weightDevice
        self.throttleReadBpsDevice = throttleReadBpsDevice
        self.throttleWriteBpsDevice = throttleWriteBpsDevice
        self.throttleReadIOPSDevice = throttleReadIOPSDevice
        self.throttleWriteIOPSDevice = throttleWriteIOPSDevice
    }
}

/// A per-device weight (`blockIO.weightDevice[]`).
public struct LinuxWeightDevice: Codable, Sendable, Equatable {
    /// The device's major number.
    public var major: Int64
    /// The device's minor number.
    public var minor: Int64
    /// The weight for this device.
    public var weight: UInt16?
    /// The leaf weight for this device (CFQ only).
    public var leafWeight: UInt16?

    /// Creates a device weight.
    public init(major: Int64, minor: Int64, weight: UInt16? = nil, leafWeight: UInt16? = nil) {
        self.major = major
        self.minor = minor
        self.weight = weight
        self.leafWeight = leafWeight
    }
}

/// A per-device rate limit (`blockIO.throttle*Device[]`).
public struct LinuxThrottleDevice: Codable, Sendable, Equatable {
    /// The device's major number.
    public var major: Int64
    /// The device's minor number.
    public var minor: Int64
    /// The rate, in bytes or operations per second.
    public var rate: UInt64

    /// Creates a device rate limit.
    public init(major: Int64, minor: Int64, rate: UInt64) {
        self.major = major
        self.minor = minor
        self.rate = rate
    }
}

/// A huge page limit (`linux.resources.hugepageLimits[]`).
public struct LinuxHugepageLimit: Codable, Sendable, Equatable {
    /// The page size, e.g. "2MB", "1GB".
    public var pageSize: String
    /// The limit in bytes (reservation limit where the kernel supports it).
    public var limit: UInt64

    /// Creates a huge page limit.
    public init(pageSize: String, limit: UInt64) {
        self.pageSize = pageSize
        self.limit = limit
    }
}

/// Network cgroup settings (`linux.resources.network`).
public struct LinuxNetwork: Codable, Sendable, Equatable {
    /// The net_cls class id of the container's packets.
    public var classID: UInt32?
    /// Per-interface net_prio priorities.
    public var priorities: [LinuxInterfacePriority]?
}

/// A per-interface priority (`network.priorities[]`).
public struct LinuxInterfacePriority: Codable, Sendable, Equatable {
    /// The interface name.
    public var name: String
    /// Its priority.
    public var priority: UInt32
}

/// RDMA limits for one device (`linux.resources.rdma[name]`).
public struct LinuxRdma: Codable, Sendable, Equatable {
    /// The maximum number of HCA handles.
    public var hcaHandles: UInt32?
    /// The maximum number of HCA objects.
    public var hcaObjects: UInt32?
}
