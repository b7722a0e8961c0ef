/// A container's cgroup statistics in the JSON shape of runc's `types.Stats` (the
/// `data` of `runc events --stats`), runc 1.1: the same keys, and Go's `omitempty`
/// (zero numbers, empty lists and maps left out) where runc has it.
public struct CgroupStats: Codable, Sendable, Equatable {
    public var cpu = CPU()
    public var cpuset = CPUSet()
    public var memory = Memory()
    public var pids = Pids()
    public var blkio = Blkio()
    /// Keyed by page size as runc names it ("2MB", "1GB").
    public var hugetlb: [String: Hugetlb] = [:]
    public var intelRdt = IntelRdt()
    /// Network interfaces are not a cgroup matter; runc prints null without them.
    public var networkInterfaces: [String]? = nil

    public init() {}

    enum CodingKeys: String, CodingKey {
        case cpu, cpuset, memory, pids, blkio, hugetlb
        case intelRdt = "intel_rdt", networkInterfaces = "network_interfaces"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpu, forKey: .cpu)
        try c.encode(cpuset, forKey: .cpuset)
        try c.encode(memory, forKey: .memory)
        try c.encode(pids, forKey: .pids)
        try c.encode(blkio, forKey: .blkio)
        try c.encode(hugetlb, forKey: .hugetlb)
        try c.encode(intelRdt, forKey: .intelRdt)
        if let n = networkInterfaces { try c.encode(n, forKey: .networkInterfaces) } else { try c.encodeNil(forKey: .networkInterfaces) }
    }

    public struct CPU: Codable, Sendable, Equatable {
        public var usage = Usage()
        public var throttling = Throttling()
        public init() {}

        public struct Usage: Codable, Sendable, Equatable {
            /// Nanoseconds.
            @OmitEmpty public var total: UInt64 = 0
            @OmitEmpty public var percpu: [UInt64] = []
            @OmitEmpty public var percpuKernel: [UInt64] = []
            @OmitEmpty public var percpuUser: [UInt64] = []
            public var kernel: UInt64 = 0
            public var user: UInt64 = 0
            public init() {}
            // The order runc writes them (types.CpuUsage), which is not the order of
            // a plain case list: the per-cpu splits come before kernel and user.
            enum CodingKeys: String, CodingKey {
                case total, percpu
                case percpuKernel = "percpu_kernel", percpuUser = "percpu_user"
                case kernel, user
            }
        }

        public struct Throttling: Codable, Sendable, Equatable {
            @OmitEmpty public var periods: UInt64 = 0
            @OmitEmpty public var throttledPeriods: UInt64 = 0
            /// Nanoseconds.
            @OmitEmpty public var throttledTime: UInt64 = 0
            public init() {}
        }
    }

    public struct CPUSet: Codable, Sendable, Equatable {
        @OmitEmpty public var cpus: [UInt16] = []
        public var cpuExclusive: UInt64 = 0
        @OmitEmpty public var mems: [UInt16] = []
        public var memHardwall: UInt64 = 0
        public var memExclusive: UInt64 = 0
        public var memoryMigrate: UInt64 = 0
        public var memorySpreadPage: UInt64 = 0
        public var memorySpreadSlab: UInt64 = 0
        public var memoryPressure: UInt64 = 0
        public var schedLoadBalance: UInt64 = 0
        public var schedRelaxDomainLevel: Int64 = 0
        public init() {}
        // runc's order (types.Cpuset): cpu_exclusive between cpus and mems.
        enum CodingKeys: String, CodingKey {
            case cpus
            case cpuExclusive = "cpu_exclusive"
            case mems
            case memHardwall = "mem_hardwall", memExclusive = "mem_exclusive"
            case memoryMigrate = "memory_migrate", memorySpreadPage = "memory_spread_page"
            case memorySpreadSlab = "memory_spread_slab", memoryPressure = "memory_pressure"
            case schedLoadBalance = "sched_load_balance", schedRelaxDomainLevel = "sched_relax_domain_level"
        }
    }

    public struct MemoryEntry: Codable, Sendable, Equatable {
        public var limit: UInt64 = 0
        @OmitEmpty public var usage: UInt64 = 0
        @OmitEmpty public var max: UInt64 = 0
        public var failcnt: UInt64 = 0
        public init() {}
    }

    public struct Memory: Codable, Sendable, Equatable {
        @OmitEmpty public var cache: UInt64 = 0
        public var usage = MemoryEntry()
        /// Memory plus swap, as v1 reports it (v2 values are combined to match).
        public var swap = MemoryEntry()
        public var kernel = MemoryEntry()
        public var kernelTCP = MemoryEntry()
        /// memory.stat as read.
        @OmitEmpty public var raw: [String: UInt64] = [:]
        public init() {}
    }

    public struct Pids: Codable, Sendable, Equatable {
        @OmitEmpty public var current: UInt64 = 0
        /// 0 when unlimited ("max").
        @OmitEmpty public var limit: UInt64 = 0
        public init() {}
    }

    public struct BlkioEntry: Codable, Sendable, Equatable {
        @OmitEmpty public var major: UInt64 = 0
        @OmitEmpty public var minor: UInt64 = 0
        @OmitEmpty public var op: String = ""
        @OmitEmpty public var value: UInt64 = 0
        public init(major: UInt64 = 0, minor: UInt64 = 0, op: String = "", value: UInt64 = 0) {
            self.major = major
            self.minor = minor
            self.op = op
            self.value = value
        }
    }

    public struct Blkio: Codable, Sendable, Equatable {
        @OmitEmpty public var ioServiceBytesRecursive: [BlkioEntry] = []
        @OmitEmpty public var ioServicedRecursive: [BlkioEntry] = []
        @OmitEmpty public var ioQueuedRecursive: [BlkioEntry] = []
        @OmitEmpty public var ioServiceTimeRecursive: [BlkioEntry] = []
        @OmitEmpty public var ioWaitTimeRecursive: [BlkioEntry] = []
        @OmitEmpty public var ioMergedRecursive: [BlkioEntry] = []
        @OmitEmpty public var ioTimeRecursive: [BlkioEntry] = []
        @OmitEmpty public var sectorsRecursive: [BlkioEntry] = []
        public init() {}
        enum CodingKeys: String, CodingKey {
            // runc's order (types.Blkio), its queued key spelled as runc spells it.
            case ioServiceBytesRecursive, ioServicedRecursive
            case ioQueuedRecursive = "ioQueueRecursive"
            case ioServiceTimeRecursive, ioWaitTimeRecursive, ioMergedRecursive, ioTimeRecursive, sectorsRecursive
        }
    }

    public struct Hugetlb: Codable, Sendable, Equatable {
        @OmitEmpty public var usage: UInt64 = 0
        @OmitEmpty public var max: UInt64 = 0
        public var failcnt: UInt64 = 0
        public init() {}
    }

    /// Intel RDT is not read; runc prints an empty object without it.
    public struct IntelRdt: Codable, Sendable, Equatable {
        public init() {}
    }
}

/// A value that has a Go zero value, left out of JSON like Go's `omitempty`.
public protocol OmitEmptyValue: Codable, Equatable {
    static var emptyValue: Self { get }
    var isEmptyValue: Bool { get }
}

extension UInt64: OmitEmptyValue {
    public static var emptyValue: UInt64 { 0 }
    public var isEmptyValue: Bool { self == 0 }
}

extension String: OmitEmptyValue {
    public static var emptyValue: String { "" }
    public var isEmptyValue: Bool { isEmpty }
}

extension Array: OmitEmptyValue where Element: Codable & Equatable {
    public static var emptyValue: [Element] { [] }
    public var isEmptyValue: Bool { isEmpty }
}

extension Dictionary: OmitEmptyValue where Key == String, Value: Codable & Equatable {
    public static var emptyValue: [String: Value] { [:] }
    public var isEmptyValue: Bool { isEmpty }
}

/// Go's `omitempty` for a Codable property: the key is left out when the value is
/// its zero value, and read as zero when absent.
@propertyWrapper
public struct OmitEmpty<Value: OmitEmptyValue>: Codable, Equatable {
    public var wrappedValue: Value
    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }
    public init(from decoder: Decoder) throws { wrappedValue = try Value(from: decoder) }
    public func encode(to encoder: Encoder) throws { try wrappedValue.encode(to: encoder) }
}

extension OmitEmpty: Sendable where Value: Sendable {}

extension KeyedEncodingContainer {
    public mutating func encode<V>(_ value: OmitEmpty<V>, forKey key: Key) throws {
        if !value.wrappedValue.isEmptyValue { try encode(value.wrappedValue, forKey: key) }
    }
}

extension KeyedDecodingContainer {
    public func decode<V>(_ type: OmitEmpty<V>.Type, forKey key: Key) throws -> OmitEmpty<V> {
        OmitEmpty(wrappedValue: try decodeIfPresent(V.self, forKey: key) ?? V.emptyValue)
    }
}
