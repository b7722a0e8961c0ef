// Tracks the OCI runtime-spec v1.2.0 (config.md "Process", config-linux scheduler/ioPriority).

/// The container process (`process`).
public struct Process: Codable, Sendable, Equatable {
    /// Attach a pseudo-terminal to the process.
    public var terminal: Bool?
    /// The console size in characters; only meaningful with `terminal`.
    public var consoleSize: Box?
    /// The identity the process runs as. Required by the spec.
    public var user: User
    /// The program and its arguments; `args[0]` is resolved like execvp(3).
    public var args: [String]?
    /// The whole command line (Windows only; kept so a round trip loses nothing).
    public var commandLine: String?
    /// `KEY=value` entries.
    public var env: [String]?
    /// The working directory inside the container; must be absolute.
    public var cwd: String
    /// Capability sets.
    public var capabilities: LinuxCapabilities?
    /// Resource limits, set with setrlimit(2).
    public var rlimits: [POSIXRlimit]?
    /// Set PR_SET_NO_NEW_PRIVS.
    public var noNewPrivileges: Bool?
    /// The AppArmor profile to apply.
    public var apparmorProfile: String?
    /// The process's oom_score_adj, -1000...1000.
    public var oomScoreAdj: Int?
    /// The SELinux label the process runs with.
    public var selinuxLabel: String?
    /// The I/O priority (ioprio_set(2)).
    public var ioPriority: LinuxIOPriority?
    /// Scheduling attributes (sched_setattr(2)).
    public var scheduler: Scheduler?
    /// CPU affinity while the runtime sets up and after exec (added in runtime-spec 1.2.1).
    public var execCPUAffinity: CPUAffinity?

    /// Creates a process. The spec requires `user` and `cwd`.
    public init(
        terminal: Bool? = nil,
        consoleSize: Box? = nil,
        user: User = User(),
        args: [String]? = nil,
        commandLine: String? = nil,
        env: [String]? = nil,
        cwd: String = "/",
        capabilities: LinuxCapabilities? = nil,
        rlimits: [POSIXRlimit]? = nil,
        noNewPrivileges: Bool? = nil,
        apparmorProfile: String? = nil,
        oomScoreAdj: Int? = nil,
        selinuxLabel: String? = nil,
        ioPriority: LinuxIOPriority? = nil,
        scheduler: Scheduler? = nil,
        execCPUAffinity: CPUAffinity? = nil
    ) {
        self.terminal = terminal
        self.consoleSize = consoleSize
        self.user = user
        self.args = args
        self.commandLine = commandLine
        self.env = env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.apparmorProfile = apparmorProfile
        self.oomScoreAdj = oomScoreAdj
        self.selinuxLabel = selinuxLabel
        self.ioPriority = ioPriority
        self.scheduler = scheduler
        self.execCPUAffinity = execCPUAffinity
    }
}

/// A rectangle in characters (`process.consoleSize`).
public struct Box: Codable, Sendable, Equatable {
    /// Rows.
    public var height: UInt
    /// Columns.
    public var width: UInt
}

/// The process identity (`process.user`).
public struct User: Codable, Sendable, Equatable {
    /// The user id, in the container's user namespace.
    public var uid: UInt32
    /// The group id, in the container's user namespace.
    public var gid: UInt32
    /// The umask of the init process.
    public var umask: UInt32?
    /// Supplementary group ids.
    public var additionalGids: [UInt32]?
    /// The user name (Windows only).
    public var username: String?

    /// Creates a user; root by default.
    public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil, username: String? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
        self.username = username
    }
}

/// The five capability sets (`process.capabilities`), as `CAP_*` names.
public struct LinuxCapabilities: Codable, Sendable, Equatable {
    /// The bounding set.
    public var bounding: [String]?
    /// The effective set.
    public var effective: [String]?
    /// The inheritable set.
    public var inheritable: [String]?
    /// The permitted set.
    public var permitted: [String]?
    /// The ambient set.
    public var ambient: [String]?

    /// Creates capability sets.
    public init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil, permitted: [String]? = nil, ambient: [String]? = nil) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }
}

/// One resource limit (`process.rlimits[]`).
public struct POSIXRlimit: Codable, Sendable, Equatable {
    /// The resource, e.g. "RLIMIT_NOFILE" (see `rlimitResources`).
    public var type: String
    /// The hard limit.
    public var hard: UInt64
    /// The soft limit; must not exceed `hard`.
    public var soft: UInt64

    /// Creates a limit.
    public init(type: String, hard: UInt64, soft: UInt64) {
        self.type = type
        self.hard = hard
        self.soft = soft
    }
}

/// The I/O scheduling class and priority (`process.ioPriority`).
public struct LinuxIOPriority: Codable, Sendable, Equatable {
    /// The scheduling class.
    public var `class`: IOPriorityClass
    /// The priority within the class (0 highest ... 7 lowest).
    public var priority: Int
}

/// An I/O scheduling class (ioprio_set(2)).
public enum IOPriorityClass: String, SpecVocabulary {
    /// Real-time class.
    case realtime = "IOPRIO_CLASS_RT"
    /// Best-effort class (the default).
    case bestEffort = "IOPRIO_CLASS_BE"
    /// Only when the disk is otherwise idle.
    case idle = "IOPRIO_CLASS_IDLE"

    /// The name of one value in error messages.
    public static let vocabularyName = "I/O priority class"
}

/// Scheduling attributes (`process.scheduler`), as sched_setattr(2) takes them.
public struct Scheduler: Codable, Sendable, Equatable {
    /// The policy.
    public var policy: LinuxSchedulerPolicy
    /// The nice value (SCHED_OTHER, SCHED_BATCH).
    public var nice: Int32?
    /// The static priority (SCHED_FIFO, SCHED_RR).
    public var priority: Int32?
    /// Scheduling flags.
    public var flags: [LinuxSchedulerFlag]?
    /// SCHED_DEADLINE runtime, in nanoseconds.
    public var runtime: UInt64?
    /// SCHED_DEADLINE deadline, in nanoseconds.
    public var deadline: UInt64?
    /// SCHED_DEADLINE period, in nanoseconds.
    public var period: UInt64?
}

/// A scheduling policy.
public enum LinuxSchedulerPolicy: String, SpecVocabulary {
    /// The default time-sharing policy.
    case other = "SCHED_OTHER"
    /// Real-time first-in first-out.
    case fifo = "SCHED_FIFO"
    /// Real-time round-robin.
    case roundRobin = "SCHED_RR"
    /// CPU-bound batch work.
    case batch = "SCHED_BATCH"
    /// Isochronous (not in mainline Linux).
    case iso = "SCHED_ISO"
    /// Very low priority background work.
    case idle = "SCHED_IDLE"
    /// Earliest deadline first.
    case deadline = "SCHED_DEADLINE"

    /// The name of one value in error messages.
    public static let vocabularyName = "scheduler policy"
}

/// A sched_setattr(2) flag.
public enum LinuxSchedulerFlag: String, SpecVocabulary {
    /// Children do not inherit the policy.
    case resetOnFork = "SCHED_FLAG_RESET_ON_FORK"
    /// Let a deadline task reclaim unused bandwidth.
    case reclaim = "SCHED_FLAG_RECLAIM"
    /// Earliest deadline first.
    case deadlineOverrun = "SCHED_FLAG_DL_OVERRUN"
    /// Keep the current policy.
    case keepPolicy = "SCHED_FLAG_KEEP_POLICY"
    /// Keep the current parameters.
    case keepParams = "SCHED_FLAG_KEEP_PARAMS"
    /// Set the minimum utilisation clamp.
    case utilClampMin = "SCHED_FLAG_UTIL_CLAMP_MIN"
    /// Set the maximum utilisation clamp.
    case utilClampMax = "SCHED_FLAG_UTIL_CLAMP_MAX"

    /// The name of one value in error messages.
    public static let vocabularyName = "scheduler flag"
}

/// CPU affinity of the process (`process.execCPUAffinity`), as cpuset lists ("0-3,7").
public struct CPUAffinity: Codable, Sendable, Equatable {
    /// The affinity while the runtime joins the container, before exec.
    public var initial: String?
    /// The affinity of the process after exec.
    public var final: String?
}
