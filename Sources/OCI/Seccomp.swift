// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Seccomp").

/// The seccomp filter (`linux.seccomp`).
public struct LinuxSeccomp: Codable, Sendable, Equatable {
    /// The action for system calls no rule matches.
    public var defaultAction: LinuxSeccompAction
    /// The errno returned by a default SCMP_ACT_ERRNO (EPERM when absent).
    public var defaultErrnoRet: UInt32?
    /// Extra architectures, e.g. "SCMP_ARCH_X86" (libseccomp names).
    public var architectures: [String]?
    /// seccomp(2) filter flags, e.g. "SECCOMP_FILTER_FLAG_LOG".
    public var flags: [String]?
    /// The Unix socket that receives the notify fd; required with SCMP_ACT_NOTIFY.
    public var listenerPath: String?
    /// Opaque data sent with the notify fd.
    public var listenerMetadata: String?
    /// The rules, matched in order.
    public var syscalls: [LinuxSyscall]?

    /// Creates a filter.
    public init(defaultAction: LinuxSeccompAction, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil, flags: [String]? = nil, listenerPath: String? = nil, listenerMetadata: String? = nil, syscalls: [LinuxSyscall]? = nil) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.flags = flags
        self.listenerPath = listenerPath
        self.listenerMetadata = listenerMetadata
        self.syscalls = syscalls
    }
}

/// What the filter does with a matching system call.
public enum LinuxSeccompAction: String, SpecVocabulary {
    /// Kill the thread (the historical SCMP_ACT_KILL).
    case kill = "SCMP_ACT_KILL"
    /// Kill the whole process.
    case killProcess = "SCMP_ACT_KILL_PROCESS"
    /// Kill the calling thread.
    case killThread = "SCMP_ACT_KILL_THREAD"
    /// Send SIGSYS.
    case trap = "SCMP_ACT_TRAP"
    /// Fail the call with an errno.
    case errno = "SCMP_ACT_ERRNO"
    /// Notify a ptrace tracer.
    case trace = "SCMP_ACT_TRACE"
    /// Allow the call.
    case allow = "SCMP_ACT_ALLOW"
    /// Allow and log the call.
    case log = "SCMP_ACT_LOG"
    /// Hand the call to a user-space supervisor.
    case notify = "SCMP_ACT_NOTIFY"

    /// The name of one value in error messages.
    public static let vocabularyName = "seccomp action"
}

/// A comparison of one system call argument.
public enum LinuxSeccompOperator: String, SpecVocabulary {
    /// arg != value
    case notEqual = "SCMP_CMP_NE"
    /// arg < value
    case lessThan = "SCMP_CMP_LT"
    /// arg <= value
    case lessOrEqual = "SCMP_CMP_LE"
    /// arg == value
    case equalTo = "SCMP_CMP_EQ"
    /// arg >= value
    case greaterOrEqual = "SCMP_CMP_GE"
    /// arg > value
    case greaterThan = "SCMP_CMP_GT"
    /// (arg & value) == valueTwo
    case maskedEqual = "SCMP_CMP_MASKED_EQ"

    /// The name of one value in error messages.
    public static let vocabularyName = "seccomp operator"
}

/// One rule (`linux.seccomp.syscalls[]`).
public struct LinuxSyscall: Codable, Sendable, Equatable {
    /// The system calls the rule applies to; at least one.
    public var names: [String]
    /// The action taken when the rule matches.
    public var action: LinuxSeccompAction
    /// The errno returned for SCMP_ACT_ERRNO (or the SCMP_ACT_TRACE message).
    public var errnoRet: UInt32?
    /// Argument conditions, all of which must hold.
    public var args: [LinuxSeccompArg]?

    /// Creates a rule.
    public init(names: [String], action: LinuxSeccompAction, errnoRet: UInt32? = nil, args: [LinuxSeccompArg]? = nil) {
        self.names = names
        self.action = action
        self.errnoRet = errnoRet
        self.args = args
    }
}

/// A condition on one system call argument (`syscalls[].args[]`).
public struct LinuxSeccompArg: Codable, Sendable, Equatable {
    /// The argument's position, 0...5.
    public var index: UInt
    /// The value compared with.
    public var value: UInt64
    /// The second value (the result for SCMP_CMP_MASKED_EQ, where `value` is the mask).
    public var valueTwo: UInt64?
    /// The comparison.
    public var op: LinuxSeccompOperator

    /// Creates a condition.
    public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: LinuxSeccompOperator) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
}
