// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Seccomp").
//
// The spec's names for libseccomp's vocabularies: actions, comparison operators,
// architectures and seccomp(2) filter flags.

import CSeccomp
import OCI

/// A seccomp(2) filter flag the spec names in `linux.seccomp.flags`.
public enum SeccompFilterFlag: String, CaseIterable, Sendable {
    /// Install the filter in every thread of the process.
    case tsync = "SECCOMP_FILTER_FLAG_TSYNC"
    /// Log every action except SECCOMP_RET_ALLOW.
    case log = "SECCOMP_FILTER_FLAG_LOG"
    /// Leave the speculative store bypass mitigation off.
    case specAllow = "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
    /// A notified process waits killably once the listener has received the call
    /// (Linux 5.19).
    case waitKillableRecv = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"

    /// The flag's bit in seccomp(2)'s `flags` argument.
    var kernelValue: UInt32 {
        switch self {
        case .tsync: return csh_flag_tsync()
        case .log: return csh_flag_log()
        case .specAllow: return csh_flag_spec_allow()
        case .waitKillableRecv: return csh_flag_wait_killable_recv()
        }
    }
}

/// Maps the spec's strings onto libseccomp's values.
enum SeccompNames {
    /// The errno a SCMP_ACT_ERRNO or SCMP_ACT_TRACE without `errnoRet` returns: EPERM, as
    /// the spec says and runc does.
    static let defaultErrnoRet: UInt32 = 1

    /// The libseccomp action value for `action`; `errnoRet` must already be validated.
    static func action(_ action: LinuxSeccompAction, errnoRet: UInt32?) -> UInt32 {
        switch action {
        // SCMP_ACT_KILL is the historical name of SCMP_ACT_KILL_THREAD.
        case .kill, .killThread: return csh_act_kill_thread()
        case .killProcess: return csh_act_kill_process()
        case .trap: return csh_act_trap()
        case .errno: return csh_act_errno(errnoRet ?? defaultErrnoRet)
        case .trace: return csh_act_trace(errnoRet ?? defaultErrnoRet)
        case .allow: return csh_act_allow()
        case .log: return csh_act_log()
        case .notify: return csh_act_notify()
        }
    }

    /// The libseccomp comparison for `op`.
    static func compare(_ op: LinuxSeccompOperator) -> scmp_compare {
        switch op {
        case .notEqual: return SCMP_CMP_NE
        case .lessThan: return SCMP_CMP_LT
        case .lessOrEqual: return SCMP_CMP_LE
        case .equalTo: return SCMP_CMP_EQ
        case .greaterOrEqual: return SCMP_CMP_GE
        case .greaterThan: return SCMP_CMP_GT
        case .maskedEqual: return SCMP_CMP_MASKED_EQ
        }
    }

    /// The spec's architecture names and libseccomp's names for them (the strings
    /// `seccomp_arch_resolve_name` takes). The SCMP_ARCH_* macros themselves are built
    /// from AUDIT_ARCH_* expressions Swift does not import.
    static let architectures: [(spec: String, libseccomp: String)] = [
        ("SCMP_ARCH_X86", "x86"),
        ("SCMP_ARCH_X86_64", "x86_64"),
        ("SCMP_ARCH_X32", "x32"),
        ("SCMP_ARCH_ARM", "arm"),
        ("SCMP_ARCH_AARCH64", "aarch64"),
        ("SCMP_ARCH_MIPS", "mips"),
        ("SCMP_ARCH_MIPS64", "mips64"),
        ("SCMP_ARCH_MIPS64N32", "mips64n32"),
        ("SCMP_ARCH_MIPSEL", "mipsel"),
        ("SCMP_ARCH_MIPSEL64", "mipsel64"),
        ("SCMP_ARCH_MIPSEL64N32", "mipsel64n32"),
        ("SCMP_ARCH_PPC", "ppc"),
        ("SCMP_ARCH_PPC64", "ppc64"),
        ("SCMP_ARCH_PPC64LE", "ppc64le"),
        ("SCMP_ARCH_S390", "s390"),
        ("SCMP_ARCH_S390X", "s390x"),
        ("SCMP_ARCH_PARISC", "parisc"),
        ("SCMP_ARCH_PARISC64", "parisc64"),
        ("SCMP_ARCH_RISCV64", "riscv64"),
    ]
}

/// What this build supports, for the runtime-spec features document.
public enum SeccompSupport {
    public static var actions: [String] { LinuxSeccompAction.allCases.map(\.rawValue) }
    public static var operators: [String] { LinuxSeccompOperator.allCases.map(\.rawValue) }
    public static var architectures: [String] { SeccompNames.architectures.map(\.spec) }
    public static var flags: [String] { SeccompFilterFlag.allCases.map(\.rawValue) }
}
