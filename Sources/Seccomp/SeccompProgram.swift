// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Seccomp").

import CSeccomp
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// A compiled seccomp filter: a classic-BPF program plus the seccomp(2) flags to install
/// it with.
///
/// Compile in the parent, load in the child. `compile` runs libseccomp (the slow part,
/// milliseconds for Docker's ~400-name profile) and keeps only the exported BPF, a plain
/// byte array, so the runtime can compile while the child sets up its namespaces and
/// the child's `load` is one seccomp(2) call with no allocation (crun's trick in
/// `src/libcrun/seccomp.c`). Loading with seccomp(2) rather than libseccomp's
/// `seccomp_load` is also what makes `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` usable:
/// Debian's libseccomp 2.5.4 has no attribute for it. The value is `Sendable` and
/// survives fork, so it can also be cached by a hash of the profile.
public struct SeccompProgram: Sendable, Equatable {
    /// The program as `struct sock_filter[]`, in host byte order.
    public let bpf: [UInt8]
    /// The seccomp(2) flags from `linux.seccomp.flags` (without NEW_LISTENER).
    public let flags: UInt32
    /// True when a rule uses SCMP_ACT_NOTIFY: `load` then asks for a listener fd.
    public let usesNotify: Bool
    /// Names in the profile that libseccomp does not know on this architecture. They
    /// were skipped, as runc does; the caller may log them as a warning.
    public let skippedSyscalls: [String]
    /// Where the notify fd goes (`linux.seccomp.listenerPath`), when a rule notifies.
    public let listenerPath: String?
    /// Opaque data for the listener (`linux.seccomp.listenerMetadata`).
    public let listenerMetadata: String?

    /// Creates a program from parts, e.g. from a cache of compiled filters.
    public init(bpf: [UInt8], flags: UInt32, usesNotify: Bool, skippedSyscalls: [String] = [], listenerPath: String? = nil, listenerMetadata: String? = nil) {
        self.bpf = bpf
        self.flags = flags
        self.usesNotify = usesNotify
        self.skippedSyscalls = skippedSyscalls
        self.listenerPath = listenerPath
        self.listenerMetadata = listenerMetadata
    }

    /// Compiles `linux.seccomp`. Every field is validated before libseccomp is called;
    /// nothing here changes the calling process, so it is safe in the runtime's parent.
    ///
    /// - Throws: `SeccompError` naming the field (`linux.seccomp.syscalls[3].errnoRet`)
    ///   for an unknown architecture or flag, a flag this kernel lacks, an errnoRet on
    ///   an action without one, SCMP_ACT_NOTIFY without `listenerPath`, or an argument
    ///   index beyond 5. Unknown syscall names are not errors: see `skippedSyscalls`.
    public static func compile(_ seccomp: LinuxSeccomp) throws -> SeccompProgram {
        let plan = try SeccompCompiler.plan(seccomp)
        let bpf = try SeccompCompiler.export(plan)
        return SeccompProgram(
            bpf: bpf, flags: plan.flags, usesNotify: plan.usesNotify, skippedSyscalls: plan.skippedSyscalls,
            listenerPath: plan.usesNotify ? seccomp.listenerPath : nil,
            listenerMetadata: plan.usesNotify ? seccomp.listenerMetadata : nil
        )
    }

    /// The number of BPF instructions.
    public var instructionCount: Int { bpf.count / csh_bpf_instruction_size() }

    /// Installs the filter in the calling thread (every thread with
    /// SECCOMP_FILTER_FLAG_TSYNC) and returns the notify fd when a rule uses
    /// SCMP_ACT_NOTIFY; the caller owns that fd (it is close-on-exec).
    ///
    /// The caller must hold no_new_privs or CAP_SYS_ADMIN. Following runc's init: with
    /// `process.noNewPrivileges` set no_new_privs first and load as the last step before
    /// execve (after the capability drop), so the filter sees as few of the runtime's
    /// own calls as possible; without it load before dropping capabilities, since the
    /// load then needs CAP_SYS_ADMIN. Every call the runtime makes after `load` must be
    /// allowed by the profile.
    public func load() throws -> Int32? {
        guard !bpf.isEmpty, bpf.count % csh_bpf_instruction_size() == 0,
              instructionCount <= csh_bpf_max_instructions() else {
            throw SeccompError(.invalid, field: "linux.seccomp", message: "the compiled filter has \(bpf.count) bytes, not a whole BPF program the kernel accepts")
        }
        var flags = self.flags
        if usesNotify {
            flags |= csh_flag_new_listener()
            // TSYNC and NEW_LISTENER together need TSYNC_ESRCH (Linux 5.7), so that a
            // failed sync is reported as ESRCH rather than a thread id where the fd goes.
            if flags & csh_flag_tsync() != 0 { flags |= csh_flag_tsync_esrch() }
        }
        let result = bpf.withUnsafeBytes { csh_seccomp_load_bpf($0.baseAddress, $0.count, flags) }
        guard result >= 0 else {
            throw SeccompError(.system, field: "linux.seccomp", message: "cannot load the filter", cause: SystemError(call: "seccomp SECCOMP_SET_MODE_FILTER", errno: errno))
        }
        return usesNotify ? result : nil
    }
}
