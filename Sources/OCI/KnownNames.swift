// Tracks the OCI runtime-spec v1.2.0 and Linux 6.x (capability.h, resource.h).
//
// The runtime needs the numbers; the validator needs the names. Both live here so they
// cannot drift apart. OCI knows nothing of Linux otherwise: these are plain constants.

/// Every Linux capability name, in kernel order: the index is the capability number
/// (CAP_CHOWN is 0, CAP_CHECKPOINT_RESTORE is 40 = CAP_LAST_CAP as of Linux 5.9+).
public let knownCapabilities: [String] = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
]

/// Capability name to its number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40).
public let capabilityNumbers: [String: Int] = Dictionary(
    uniqueKeysWithValues: knownCapabilities.enumerated().map { ($0.element, $0.offset) })

/// The number of capability `name`, or nil when this runtime does not know it.
///
/// What `create` uses, rather than `capabilityNumbers`: a `[String: Int]` made at
/// run time makes the Swift runtime look up `String: Hashable` by scanning every
/// protocol conformance record of the (static, Foundation-sized) binary, ~100k
/// instructions on the `run` path before the fork; 41 string compares are nothing.
public func capabilityNumber(_ name: String) -> Int? {
    knownCapabilities.firstIndex(of: name)
}

/// The RLIMIT_* resource number of `name`, or nil (a table, not `rlimitResources`'
/// dictionary, for the reason `capabilityNumber` gives).
public func rlimitResource(_ name: String) -> Int32? {
    rlimitTable.first { $0.name == name }.map { $0.resource }
}

private let rlimitTable: [(name: String, resource: Int32)] = [
    ("RLIMIT_CPU", 0), ("RLIMIT_FSIZE", 1), ("RLIMIT_DATA", 2), ("RLIMIT_STACK", 3),
    ("RLIMIT_CORE", 4), ("RLIMIT_RSS", 5), ("RLIMIT_NPROC", 6), ("RLIMIT_NOFILE", 7),
    ("RLIMIT_MEMLOCK", 8), ("RLIMIT_AS", 9), ("RLIMIT_LOCKS", 10), ("RLIMIT_SIGPENDING", 11),
    ("RLIMIT_MSGQUEUE", 12), ("RLIMIT_NICE", 13), ("RLIMIT_RTPRIO", 14), ("RLIMIT_RTTIME", 15),
]

/// RLIMIT_* name to its resource number on Linux (asm-generic/resource.h).
public let rlimitResources: [String: Int32] = Dictionary(
    uniqueKeysWithValues: rlimitTable.map { ($0.name, $0.resource) })

extension Spec {
    /// Every Linux capability name (see the global `knownCapabilities`).
    public static var knownCapabilities: [String] { OCI.knownCapabilities }
    /// Capability name to number (see the global `capabilityNumbers`).
    public static var capabilityNumbers: [String: Int] { OCI.capabilityNumbers }
    /// RLIMIT_* name to resource number (see the global `rlimitResources`).
    public static var rlimitResources: [String: Int32] { OCI.rlimitResources }
}
