// Tracks the OCI runtime-spec v1.2.0 (config-linux.md).

/// The spec's `linux` object.
///
/// Named `LinuxConfig`, not `Linux` as in the Go types, because the runtime's syscall
/// wrappers live in a Swift module called `Linux` and the names would clash.
public struct LinuxConfig: Codable, Sendable, Equatable {
    /// User id mappings of the container's user namespace.
    public var uidMappings: [LinuxIDMapping]?
    /// Group id mappings of the container's user namespace.
    public var gidMappings: [LinuxIDMapping]?
    /// Clock offsets of the time namespace, keyed by clock ("monotonic", "boottime").
    public var timeOffsets: [String: LinuxTimeOffset]?
    /// Kernel parameters set inside the container's namespaces.
    public var sysctl: [String: String]?
    /// cgroup limits.
    public var resources: LinuxResources?
    /// The cgroup path (or systemd "slice:prefix:name").
    public var cgroupsPath: String?
    /// Namespaces to create or join.
    public var namespaces: [LinuxNamespace]?
    /// Device nodes to create in the container's /dev.
    public var devices: [LinuxDevice]?
    /// The seccomp filter.
    public var seccomp: LinuxSeccomp?
    /// Propagation of the root mount: one of `LinuxConfig.rootfsPropagationModes`.
    public var rootfsPropagation: String?
    /// Paths hidden from the container (masked with /dev/null or an empty tmpfs).
    public var maskedPaths: [String]?
    /// Paths made read-only inside the container.
    public var readonlyPaths: [String]?
    /// The SELinux context of the container's mounts.
    public var mountLabel: String?
    /// Intel RDT (resctrl) settings.
    public var intelRdt: LinuxIntelRdt?
    /// The execution domain (personality(2)).
    public var personality: LinuxPersonality?
    /// Host network devices to move into the container, keyed by host name.
    /// Added in runtime-spec 1.3.0; modelled so such configs round-trip.
    public var netDevices: [String: LinuxNetDevice]?

    /// The accepted values of `rootfsPropagation`.
    public static let rootfsPropagationModes = [
        "shared", "slave", "private", "unbindable",
        "rshared", "rslave", "rprivate", "runbindable",
    ]

    /// Creates a Linux configuration.
    public init(
        uidMappings: [LinuxIDMapping]? = nil,
        gidMappings: [LinuxIDMapping]? = nil,
        timeOffsets: [String: LinuxTimeOffset]? = nil,
        sysctl: [String: String]? = nil,
        resources: LinuxResources? = nil,
        cgroupsPath: String? = nil,
        namespaces: [LinuxNamespace]? = nil,
        devices: [LinuxDevice]? = nil,
        seccomp: LinuxSeccomp? = nil,
        rootfsPropagation: String? = nil,
        maskedPaths: [String]? = nil,
        readonlyPaths: [String]? = nil,
        mountLabel: String? = nil,
        intelRdt: LinuxIntelRdt? = nil,
        personality: LinuxPersonality? = nil,
        netDevices: [String: LinuxNetDevice]? = nil
    ) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.timeOffsets = timeOffsets
        self.sysctl = sysctl
        self.resources = resources
        self.cgroupsPath = cgroupsPath
        self.namespaces = namespaces
        self.devices = devices
        self.seccomp = seccomp
        self.rootfsPropagation = rootfsPropagation
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.mountLabel = mountLabel
        self.intelRdt = intelRdt
        self.personality = personality
        self.netDevices = netDevices
    }

    /// The entry for namespace `type`, if the configuration lists one.
    public func namespace(_ type: LinuxNamespaceType) -> LinuxNamespace? {
        namespaces?.first { $0.type == type }
    }
}

/// A clock offset in a time namespace (`linux.timeOffsets`).
public struct LinuxTimeOffset: Codable, Sendable, Equatable {
    /// Whole seconds.
    public var secs: Int64?
    /// Additional nanoseconds, below one second.
    public var nanosecs: UInt32?

    /// The clocks a time namespace can offset.
    public static let clocks = ["boottime", "monotonic"]
}

/// Intel Resource Director Technology settings (`linux.intelRdt`).
public struct LinuxIntelRdt: Codable, Sendable, Equatable {
    /// The resctrl class of service (a directory under /sys/fs/resctrl).
    public var closID: String?
    /// The L3 cache schema, "L3:<id>=<cbm>;...".
    public var l3CacheSchema: String?
    /// The memory bandwidth schema, "MB:<id>=<bw>;...".
    public var memBwSchema: String?
    /// Enable cache monitoring.
    public var enableCMT: Bool?
    /// Enable memory bandwidth monitoring.
    public var enableMBM: Bool?
}

/// The execution domain (`linux.personality`).
public struct LinuxPersonality: Codable, Sendable, Equatable {
    /// The domain.
    public var domain: LinuxPersonalityDomain
    /// Additional flags; the spec defines none yet.
    public var flags: [String]?
}

/// A personality(2) execution domain.
public enum LinuxPersonalityDomain: String, SpecVocabulary {
    /// The standard Linux domain.
    case linux = "LINUX"
    /// Report a 32-bit machine (uname -m).
    case linux32 = "LINUX32"

    /// The name of one value in error messages.
    public static let vocabularyName = "personality domain"
}

/// A host network device moved into the container (`linux.netDevices`).
public struct LinuxNetDevice: Codable, Sendable, Equatable {
    /// The device's name inside the container; the host name when absent.
    public var name: String?
}
