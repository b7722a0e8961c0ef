// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Seccomp").
//
// linux.seccomp to a classic-BPF program, in two steps: `plan` validates every field and
// resolves every name with no side effect (youki's "before any side effects"), then
// `export` has libseccomp build the filter and write it out as BPF. The semantics follow
// runc's libcontainer/seccomp: unknown syscall names are skipped, a rule whose action is
// the default action is dropped, and several conditions on one argument make one rule
// each (libseccomp cannot AND two comparisons of the same argument).

import CSeccomp
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Compiles `linux.seccomp` into BPF.
enum SeccompCompiler {
    /// One libseccomp rule: a syscall number, an action and the conditions that must all
    /// hold.
    struct Rule {
        var field: String
        var name: String
        var syscall: Int32
        var action: UInt32
        var conditions: [scmp_arg_cmp]
    }

    /// Everything libseccomp needs, validated and resolved.
    struct Plan {
        var defaultAction: UInt32
        var architectures: [UInt32] = []
        var flags: UInt32 = 0
        var rules: [Rule] = []
        var skippedSyscalls: [String] = []
        var usesNotify = false
        /// Where calls newer than the profile get ENOSYS (EnosysStub).
        var enosysLimits: [EnosysStub.Limit] = []
    }

    /// A system call has at most six arguments.
    static let maximumArgumentIndex: UInt = 5

    /// Validates `seccomp` and resolves its names; touches nothing outside this process's
    /// memory (the flag probe is a seccomp(2) call that cannot install anything).
    static func plan(_ seccomp: LinuxSeccomp) throws -> Plan {
        let root = "linux.seccomp"
        // SCMP_ACT_NOTIFY as the default would send the runtime's own calls between load
        // and exec to a listener that has not got the fd yet (runc refuses it too).
        if seccomp.defaultAction == .notify {
            throw SeccompError(.invalid, field: "\(root).defaultAction", message: "SCMP_ACT_NOTIFY cannot be the default action")
        }
        try checkErrnoRet(seccomp.defaultErrnoRet, for: seccomp.defaultAction, field: "\(root).defaultErrnoRet")
        var plan = Plan(defaultAction: SeccompNames.action(seccomp.defaultAction, errnoRet: seccomp.defaultErrnoRet))

        for (i, name) in (seccomp.architectures ?? []).enumerated() {
            let field = "\(root).architectures[\(i)]"
            guard let token = SeccompNames.architectures.first(where: { $0.spec == name })?.libseccomp else {
                let allowed = SeccompNames.architectures.map(\.spec).joined(separator: ", ")
                throw SeccompError(.invalid, field: field, message: "unknown architecture \"\(name)\" (expected one of \(allowed))")
            }
            let value = seccomp_arch_resolve_name(token)
            guard value != 0 else {
                throw SeccompError(.unsupported, field: field, message: "architecture \(name) is not supported by libseccomp \(libraryVersion)")
            }
            plan.architectures.append(value)
        }

        for (i, rule) in (seccomp.syscalls ?? []).enumerated() {
            try add(rule, field: "\(root).syscalls[\(i)]", defaultAction: plan.defaultAction, to: &plan)
        }
        if plan.usesNotify && (seccomp.listenerPath ?? "").isEmpty {
            throw SeccompError(.invalid, field: "\(root).listenerPath", message: "required when a rule uses SCMP_ACT_NOTIFY")
        }

        for (i, name) in (seccomp.flags ?? []).enumerated() {
            let field = "\(root).flags[\(i)]"
            guard let flag = SeccompFilterFlag(rawValue: name) else {
                let allowed = SeccompFilterFlag.allCases.map(\.rawValue).joined(separator: ", ")
                throw SeccompError(.invalid, field: field, message: "unknown seccomp flag \"\(name)\" (expected one of \(allowed))")
            }
            // WAIT_KILLABLE_RECV is only accepted together with NEW_LISTENER: probe it so.
            let probe = flag == .waitKillableRecv ? flag.kernelValue | csh_flag_new_listener() : flag.kernelValue
            guard csh_seccomp_flags_supported(probe) == 1 else {
                throw SeccompError(.unsupported, field: field, message: "\(name) is not supported by this kernel")
            }
            // The kernel rejects WAIT_KILLABLE_RECV without a listener; with no notify
            // rule it would change nothing, so it is dropped rather than failing the load.
            if flag == .waitKillableRecv && !plan.usesNotify { continue }
            plan.flags |= flag.kernelValue
        }
        plan.enosysLimits = EnosysStub.limits(for: seccomp, architectures: plan.architectures)
        return plan
    }

    /// Adds the rules of one `syscalls[]` entry to `plan`.
    private static func add(_ rule: LinuxSyscall, field: String, defaultAction: UInt32, to plan: inout Plan) throws {
        guard !rule.names.isEmpty else {
            throw SeccompError(.invalid, field: "\(field).names", message: "at least one system call name is required")
        }
        try checkErrnoRet(rule.errnoRet, for: rule.action, field: "\(field).errnoRet")
        var conditions: [scmp_arg_cmp] = []
        var perIndex = [Int](repeating: 0, count: Int(maximumArgumentIndex) + 1)
        for (j, arg) in (rule.args ?? []).enumerated() {
            guard arg.index <= maximumArgumentIndex else {
                throw SeccompError(.invalid, field: "\(field).args[\(j)].index", message: "\(arg.index) is out of range (a system call has arguments 0 to 5)")
            }
            perIndex[Int(arg.index)] += 1
            // For SCMP_CMP_MASKED_EQ `value` is the mask and `valueTwo` the result, which
            // is libseccomp's datum_a and datum_b order.
            conditions.append(csh_arg_cmp(UInt32(arg.index), SeccompNames.compare(arg.op), arg.value, arg.valueTwo ?? 0))
        }
        // Two conditions on one argument: one rule per condition (runc's "old behaviour").
        let conditionSets = perIndex.contains { $0 > 1 } ? conditions.map { [$0] } : [conditions]
        let action = SeccompNames.action(rule.action, errnoRet: rule.errnoRet)

        for (j, name) in rule.names.enumerated() {
            guard !name.isEmpty else {
                throw SeccompError(.invalid, field: "\(field).names[\(j)]", message: "empty system call name")
            }
            // runc reports the fd to its parent with write(2); safehouse's child uses its
            // channel the same way, so a notified write would wait for a listener that
            // has not got the fd yet.
            if rule.action == .notify && name == "write" {
                throw SeccompError(.invalid, field: "\(field).names[\(j)]", message: "SCMP_ACT_NOTIFY cannot be used for the write system call")
            }
            if rule.action == .notify { plan.usesNotify = true }
            // libseccomp refuses a rule whose action is the default one; it is redundant.
            if action == defaultAction { continue }
            let number = seccomp_syscall_resolve_name(name)
            // Not a system call libseccomp knows: a newer kernel's call, or a typo. runc
            // skips these with a debug message; the caller may warn with the list.
            guard number != __NR_SCMP_ERROR else {
                if !plan.skippedSyscalls.contains(name) { plan.skippedSyscalls.append(name) }
                continue
            }
            for set in conditionSets {
                plan.rules.append(Rule(field: "\(field).names[\(j)]", name: name, syscall: number, action: action, conditions: set))
            }
        }
    }

    /// `errnoRet` is valid only with the actions that return an errno (the spec: "the
    /// runtime MUST print an error and fail"), and must fit SECCOMP_RET_DATA.
    private static func checkErrnoRet(_ errnoRet: UInt32?, for action: LinuxSeccompAction, field: String) throws {
        guard let errnoRet else { return }
        // Only the actions that carry an errno take one.
        guard action == .errno || action == .trace else {
            throw SeccompError(.invalid, field: field, message: "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not \(action.rawValue)")
        }
        guard errnoRet <= 0xffff else {
            throw SeccompError(.invalid, field: field, message: "\(errnoRet) does not fit in 16 bits")
        }
    }

    /// Builds the filter with libseccomp and returns it as BPF (struct sock_filter[]).
    static func export(_ plan: Plan) throws -> [UInt8] {
        let root = "linux.seccomp"
        guard let ctx = seccomp_init(plan.defaultAction) else {
            throw SeccompError(.library, field: "\(root).defaultAction", message: "seccomp_init failed")
        }
        defer { seccomp_release(ctx) }
        for (i, arch) in plan.architectures.enumerated() {
            let rc = seccomp_arch_add(ctx, arch)
            // The native architecture is already in the filter.
            if rc < 0 && rc != -EEXIST {
                throw SeccompError.library("seccomp_arch_add", field: "\(root).architectures[\(i)]", message: "cannot add the architecture", result: rc)
            }
        }
        // A binary tree of syscalls for long profiles, as runc does above 32 rules
        // (libseccomp <= 2.5.4 misbehaves with the tree and no rules at all).
        if plan.rules.count > 32 {
            _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        }
        for rule in plan.rules {
            let rc = rule.conditions.withUnsafeBufferPointer {
                seccomp_rule_add_array(ctx, rule.action, rule.syscall, UInt32($0.count), $0.baseAddress)
            }
            if rc < 0 {
                throw SeccompError.library("seccomp_rule_add", field: rule.field, message: "libseccomp rejected the rule for \(rule.name)", result: rc)
            }
        }
        // libseccomp 2.5.4 has no seccomp_export_bpf_mem: export to a memory file.
        let memfd = csh_memfd("safehouse-seccomp")
        guard memfd >= 0 else {
            throw SeccompError(.system, field: root, message: "cannot export the filter", cause: SystemError(call: "memfd_create", errno: errno))
        }
        let file = FileDescriptor(adopting: memfd)
        let rc = seccomp_export_bpf(ctx, file.rawValue)
        if rc < 0 {
            throw SeccompError.library("seccomp_export_bpf", field: root, message: "cannot export the filter", result: rc)
        }
        do {
            try syscall("lseek") { lseek(file.rawValue, 0, SEEK_SET) }
            // runc's -ENOSYS stub goes first (EnosysStub): libseccomp's program starts
            // by loading the architecture itself, so it needs nothing from the stub.
            return EnosysStub.bytes(for: plan.enosysLimits) + (try file.readAll())
        } catch let error as SystemError {
            throw SeccompError(.system, field: root, message: "cannot export the filter", cause: error)
        }
    }

    /// libseccomp's version, for messages.
    static var libraryVersion: String {
        guard let v = seccomp_version() else { return "(unknown)" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
    }
}
