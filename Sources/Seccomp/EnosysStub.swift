// The -ENOSYS stub runc puts in front of every libseccomp filter
// (libcontainer/seccomp/patchbpf/enosys_linux.go), so that a system call newer than the
// profile fails with ENOSYS instead of the profile's default errno. glibc tries a new
// call first (clone3, faccessat2, openat2, close_range...) and falls back to the old
// one only on ENOSYS: with EPERM it gives up and the program fails.

import CSeccomp
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Builds the classic-BPF prologue that answers ENOSYS for system calls above the
/// highest one a profile names.
enum EnosysStub {
    /// The highest system call number the profile names on one architecture, by the
    /// AUDIT_ARCH value the kernel puts in `seccomp_data.arch`. On x86_64 the x32 ABI
    /// shares the AUDIT_ARCH value and sets bit 30 of the call number, so the two modes
    /// have separate limits (`x32`).
    struct Limit: Equatable {
        var auditArch: UInt32
        var x32: Bool?
        var highest: UInt32
    }

    /// __X32_SYSCALL_BIT.
    static let x32Bit: UInt32 = 0x4000_0000

    /// SECCOMP_RET_ERRNO | ENOSYS.
    static let returnENOSYS: UInt32 = 0x0005_0000 | 38

    /// runc's rule. No stub when the default action lets calls through (allow, log,
    /// trace: a tracer handles new calls itself) or already answers ENOSYS. Otherwise
    /// one limit per architecture of the filter (those listed, or the native one when
    /// none are, as libseccomp then filters only the native one), the highest number
    /// among every name of every rule, whatever its action (a name the profile lists
    /// is never "unknown" to it). Names unknown on an architecture do not count; an
    /// architecture with no known name gets no limit.
    static func limits(for seccomp: LinuxSeccomp, architectures: [UInt32]) -> [Limit] {
        switch seccomp.defaultAction {
        case .allow, .log, .trace: return []
        case .errno where (seccomp.defaultErrnoRet ?? UInt32(EPERM)) == 38: return []
        default: break
        }
        let tokens = architectures.isEmpty ? [seccomp_arch_native()] : architectures
        let amd64 = "x86_64".withCString { seccomp_arch_resolve_name($0) }
        let x32 = "x32".withCString { seccomp_arch_resolve_name($0) }
        let names = Set((seccomp.syscalls ?? []).flatMap(\.names))
        var limits: [Limit] = []
        for token in tokens {
            var highest: Int32 = 0
            for name in names where !name.isEmpty {
                let number = name.withCString { seccomp_syscall_resolve_name_arch(token, $0) }
                // Negative: unknown here, or one of libseccomp's pseudo-numbers for a
                // call this architecture does not have.
                if number > highest { highest = number }
            }
            guard highest > 0 else { continue }
            var limit = Limit(auditArch: token, x32: nil, highest: UInt32(highest))
            if token == amd64 {
                limit.x32 = false
            } else if token == x32 {
                limit.auditArch = amd64
                limit.x32 = true
                limit.highest |= x32Bit
            }
            if !limits.contains(limit) { limits.append(limit) }
        }
        return limits
    }

    /// One `struct sock_filter`.
    struct Instruction {
        var code: UInt16
        var jt: UInt8 = 0
        var jf: UInt8 = 0
        var k: UInt32 = 0
        /// `ja` to the first instruction after the stub, resolved by `program`.
        var toEnd = false

        static func loadWord(offset: UInt32) -> Instruction { Instruction(code: 0x20, k: offset) }   // BPF_LD|BPF_W|BPF_ABS
        static func jumpIfEqual(_ k: UInt32, skipFalse: Int) -> Instruction { Instruction(code: 0x15, jf: UInt8(skipFalse), k: k) }
        static func jumpIfGreater(_ k: UInt32, skipTrue: Int, skipFalse: Int) -> Instruction { Instruction(code: 0x25, jt: UInt8(skipTrue), jf: UInt8(skipFalse), k: k) }
        static func jumpIfBitsSet(_ k: UInt32, skipTrue: Int) -> Instruction { Instruction(code: 0x45, jt: UInt8(skipTrue), k: k) }
        static let returnENOSYS = Instruction(code: 0x06, k: EnosysStub.returnENOSYS)          // BPF_RET|BPF_K
        static let jumpToEnd = Instruction(code: 0x05, toEnd: true)                                // BPF_JMP|BPF_JA
    }

    /// The stub for `limits`, to run before the filter. For each architecture: if
    /// `seccomp_data.arch` is not it, skip its section; else load the call number and
    /// answer ENOSYS above the limit, and jump to the filter otherwise. Every section
    /// is a few instructions, so the conditional jumps (8 bits) always reach.
    static func instructions(for limits: [Limit]) -> [Instruction] {
        guard !limits.isEmpty else { return [] }
        func above(_ highest: UInt32?) -> [Instruction] {
            guard let highest else { return [.jumpToEnd] }
            return [.jumpIfGreater(highest, skipTrue: 0, skipFalse: 1), .returnENOSYS, .jumpToEnd]
        }
        var program: [Instruction] = [.loadWord(offset: 4)]   // seccomp_data.arch
        var arches: [UInt32] = []
        for limit in limits where !arches.contains(limit.auditArch) { arches.append(limit.auditArch) }
        for arch in arches {
            let mine = limits.filter { $0.auditArch == arch }
            var section: [Instruction] = [.loadWord(offset: 0)]   // seccomp_data.nr
            if mine.contains(where: { $0.x32 != nil }) {
                // x86_64: bit 30 tells the modes apart; a mode the profile does not
                // list goes to the filter (which has no rules for it).
                let native = above(mine.first { $0.x32 == false }?.highest)
                let x32 = above(mine.first { $0.x32 == true }?.highest)
                section.append(.jumpIfBitsSet(x32Bit, skipTrue: native.count))
                section += native + x32
            } else {
                section += above(mine.map(\.highest).max())
            }
            program.append(.jumpIfEqual(arch, skipFalse: section.count))
            program += section
        }
        for i in program.indices where program[i].toEnd {
            program[i].k = UInt32(program.count - i - 1)
        }
        return program
    }

    /// The stub as `struct sock_filter[]` bytes in host order, as seccomp_export_bpf
    /// writes the filter it is prepended to.
    static func bytes(for limits: [Limit]) -> [UInt8] {
        var out: [UInt8] = []
        for insn in instructions(for: limits) {
            withUnsafeBytes(of: insn.code) { out += $0 }
            out.append(insn.jt)
            out.append(insn.jf)
            withUnsafeBytes(of: insn.k) { out += $0 }
        }
        return out
    }
}
