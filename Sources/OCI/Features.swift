// Tracks the OCI runtime-spec v1.2.0 (features.md, features-linux.md).
//
// In this document a nil value means "unknown", not "unsupported": a runtime omits what
// it cannot vouch for.


/// What a runtime implements: the document `features` prints.
public struct Features: Codable, Sendable, Equatable {
    /// The oldest runtime-spec version the runtime accepts, e.g. "1.0.0".
    public var ociVersionMin: String?
    /// The newest runtime-spec version the runtime accepts, e.g. "1.2.0".
    public var ociVersionMax: String?
    /// The hook names recognised, e.g. "createRuntime".
    public var hooks: [String]?
    /// The mount options recognised, e.g. "ro", "rbind".
    public var mountOptions: [String]?
    /// Linux specifics.
    public var linux: Linux?
    /// Implementation details, e.g. "io.github.seccomp.libseccomp.version".
    public var annotations: [String: String]?
    /// Config annotations that may change the runtime's behaviour unsafely; an entry
    /// ending in "." is a prefix.
    public var potentiallyUnsafeConfigAnnotations: [String]?

    /// Creates a features document.
    public init(ociVersionMin: String? = nil, ociVersionMax: String? = nil, hooks: [String]? = nil, mountOptions: [String]? = nil, linux: Linux? = nil, annotations: [String: String]? = nil, potentiallyUnsafeConfigAnnotations: [String]? = nil) {
        self.ociVersionMin = ociVersionMin
        self.ociVersionMax = ociVersionMax
        self.hooks = hooks
        self.mountOptions = mountOptions
        self.linux = linux
        self.annotations = annotations
        self.potentiallyUnsafeConfigAnnotations = potentiallyUnsafeConfigAnnotations
    }

    /// The Linux part of the features document (`linux`).
    public struct Linux: Codable, Sendable, Equatable {
        /// Namespace types recognised, e.g. "mount".
        public var namespaces: [String]?
        /// Capabilities recognised, e.g. "CAP_SYS_ADMIN".
        public var capabilities: [String]?
        /// cgroup support.
        public var cgroup: Cgroup?
        /// seccomp support.
        public var seccomp: Seccomp?
        /// AppArmor support.
        public var apparmor: Apparmor?
        /// SELinux support.
        public var selinux: Selinux?
        /// Intel RDT support.
        public var intelRdt: IntelRdt?
        /// Mount extensions (idmapped mounts).
        public var mountExtensions: MountExtensions?

        /// Creates the Linux features.
        public init(namespaces: [String]? = nil, capabilities: [String]? = nil, cgroup: Cgroup? = nil, seccomp: Seccomp? = nil, apparmor: Apparmor? = nil, selinux: Selinux? = nil, intelRdt: IntelRdt? = nil, mountExtensions: MountExtensions? = nil) {
            self.namespaces = namespaces
            self.capabilities = capabilities
            self.cgroup = cgroup
            self.seccomp = seccomp
            self.apparmor = apparmor
            self.selinux = selinux
            self.intelRdt = intelRdt
            self.mountExtensions = mountExtensions
        }
    }

    /// cgroup support compiled in (not what the host uses).
    public struct Cgroup: Codable, Sendable, Equatable {
        /// cgroup v1.
        public var v1: Bool?
        /// cgroup v2.
        public var v2: Bool?
        /// The systemd cgroup driver.
        public var systemd: Bool?
        /// The systemd user-instance cgroup driver.
        public var systemdUser: Bool?
        /// The rdma controller.
        public var rdma: Bool?

        /// Creates cgroup features.
        public init(v1: Bool? = nil, v2: Bool? = nil, systemd: Bool? = nil, systemdUser: Bool? = nil, rdma: Bool? = nil) {
            self.v1 = v1
            self.v2 = v2
            self.systemd = systemd
            self.systemdUser = systemdUser
            self.rdma = rdma
        }
    }

    /// seccomp support.
    public struct Seccomp: Codable, Sendable, Equatable {
        /// seccomp support is compiled in.
        public var enabled: Bool?
        /// Actions recognised, e.g. "SCMP_ACT_NOTIFY".
        public var actions: [String]?
        /// Operators recognised, e.g. "SCMP_CMP_NE".
        public var operators: [String]?
        /// Architectures recognised, e.g. "SCMP_ARCH_X86_64".
        public var archs: [String]?
        /// Filter flags recognised.
        public var knownFlags: [String]?
        /// Filter flags this kernel and libseccomp support (a subset of `knownFlags`).
        public var supportedFlags: [String]?

        /// Creates seccomp features.
        public init(enabled: Bool? = nil, actions: [String]? = nil, operators: [String]? = nil, archs: [String]? = nil, knownFlags: [String]? = nil, supportedFlags: [String]? = nil) {
            self.enabled = enabled
            self.actions = actions
            self.operators = operators
            self.archs = archs
            self.knownFlags = knownFlags
            self.supportedFlags = supportedFlags
        }
    }

    /// Support for one facility that is either compiled in or not (`{"enabled": ...}`).
    public struct Support: Codable, Sendable, Equatable {
        /// The support is compiled in.
        public var enabled: Bool?
        /// Creates a support entry.
        public init(enabled: Bool? = nil) { self.enabled = enabled }
    }

    /// AppArmor support.
    public typealias Apparmor = Support
    /// SELinux support.
    public typealias Selinux = Support
    /// Intel RDT support.
    public typealias IntelRdt = Support
    /// Idmapped mount support.
    public typealias IDMap = Support

    /// Mount extensions.
    public struct MountExtensions: Codable, Sendable, Equatable {
        /// Idmapped mounts.
        public var idmap: IDMap?
    }
}
