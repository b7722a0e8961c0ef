import OCI

/// One eBPF instruction (struct bpf_insn): 8 bytes, little-endian on this target.
///
///     u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm;
public struct BPFInstruction: Equatable, Sendable, CustomStringConvertible {
    public var code: UInt8
    public var dst: UInt8
    public var src: UInt8
    public var off: Int16
    public var imm: Int32

    public init(code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, off: Int16 = 0, imm: Int32 = 0) {
        self.code = code
        self.dst = dst
        self.src = src
        self.off = off
        self.imm = imm
    }

    // Opcodes (linux/bpf_common.h, linux/bpf.h): class | operation | source.
    static let ldxMemW: UInt8 = 0x61   // BPF_LDX | BPF_MEM | BPF_W
    static let and32Imm: UInt8 = 0x54  // BPF_ALU | BPF_AND | BPF_K
    static let rsh32Imm: UInt8 = 0x74  // BPF_ALU | BPF_RSH | BPF_K
    static let mov32Imm: UInt8 = 0xb4  // BPF_ALU | BPF_MOV | BPF_K
    static let mov32Reg: UInt8 = 0xbc  // BPF_ALU | BPF_MOV | BPF_X
    static let jeqImm: UInt8 = 0x15    // BPF_JMP | BPF_JEQ | BPF_K
    static let jneImm: UInt8 = 0x55    // BPF_JMP | BPF_JNE | BPF_K
    static let jneReg: UInt8 = 0x5d    // BPF_JMP | BPF_JNE | BPF_X
    static let exitCode: UInt8 = 0x95  // BPF_JMP | BPF_EXIT

    /// dst = *(u32 *)(src + off)
    public static func loadWord(_ dst: UInt8, from src: UInt8, offset: Int16) -> Self { .init(code: ldxMemW, dst: dst, src: src, off: offset) }
    /// dst = (u32)dst & imm
    public static func and32(_ dst: UInt8, _ imm: Int32) -> Self { .init(code: and32Imm, dst: dst, imm: imm) }
    /// dst = (u32)dst >> imm
    public static func rsh32(_ dst: UInt8, _ imm: Int32) -> Self { .init(code: rsh32Imm, dst: dst, imm: imm) }
    /// dst = (u32)imm
    public static func mov32(_ dst: UInt8, _ imm: Int32) -> Self { .init(code: mov32Imm, dst: dst, imm: imm) }
    /// dst = (u32)src
    public static func mov32(_ dst: UInt8, register src: UInt8) -> Self { .init(code: mov32Reg, dst: dst, src: src) }
    /// if dst == imm goto pc + 1 + off
    public static func jeq(_ dst: UInt8, _ imm: Int32, _ off: Int16) -> Self { .init(code: jeqImm, dst: dst, off: off, imm: imm) }
    /// if dst != imm goto pc + 1 + off
    public static func jne(_ dst: UInt8, _ imm: Int32, _ off: Int16) -> Self { .init(code: jneImm, dst: dst, off: off, imm: imm) }
    /// if dst != src goto pc + 1 + off
    public static func jne(_ dst: UInt8, register src: UInt8, _ off: Int16) -> Self { .init(code: jneReg, dst: dst, src: src, off: off) }
    /// return r0
    public static let exit = Self(code: exitCode)

    var isJump: Bool { code == Self.jeqImm || code == Self.jneImm || code == Self.jneReg }

    /// The 8 bytes the kernel reads.
    public var bytes: [UInt8] {
        let o = UInt16(bitPattern: off), i = UInt32(bitPattern: imm)
        return [code, (dst & 0x0f) | (src << 4), UInt8(o & 0xff), UInt8(o >> 8),
                UInt8(i & 0xff), UInt8((i >> 8) & 0xff), UInt8((i >> 16) & 0xff), UInt8(i >> 24)]
    }

    public var description: String {
        switch code {
        case Self.ldxMemW: return "r\(dst) = *(u32 *)(r\(src) + \(off))"
        case Self.and32Imm: return "w\(dst) &= \(imm)"
        case Self.rsh32Imm: return "w\(dst) >>= \(imm)"
        case Self.mov32Imm: return "w\(dst) = \(imm)"
        case Self.mov32Reg: return "w\(dst) = w\(src)"
        case Self.jeqImm: return "if r\(dst) == \(imm) goto +\(off)"
        case Self.jneImm: return "if r\(dst) != \(imm) goto +\(off)"
        case Self.jneReg: return "if r\(dst) != r\(src) goto +\(off)"
        case Self.exitCode: return "exit"
        default: return "op 0x\(String(code, radix: 16))"
        }
    }
}

/// linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE program: cgroup v2 has
/// no devices.allow/deny, the kernel runs this program on every device access
/// (open, mknod) and refuses the access when it returns 0.
///
/// The layout is runc's (libcontainer/cgroups/ebpf/devicefilter). The context is
/// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, where
/// access_type's low 16 bits are the device type (BPF_DEVCG_DEV_BLOCK = 1,
/// BPF_DEVCG_DEV_CHAR = 2) and its high 16 bits the access asked for
/// (BPF_DEVCG_ACC_MKNOD = 1, READ = 2, WRITE = 4; an open for read and write asks
/// for both at once). The prologue loads the fields once:
///
///     r2 = type  (ctx[0] & 0xffff)     r3 = access (ctx[0] >> 16)
///     r4 = major (ctx[4])              r5 = minor  (ctx[8])
///
/// then one block per rule, each jumping to the next block when the rule does not
/// match, and returning the rule's verdict when it does:
///
///     if r2 != TYPE goto next          (omitted for type "a")
///     w1 = w3; w1 &= ACC; if r1 != r3 goto next     (allow: the access asked for
///                                                     is within the rule's)
///     w1 = w3; w1 &= ACC; if r1 == 0 goto next      (deny: it asks for any of the
///                                                     rule's)
///                                      (both omitted when ACC is rwm)
///     if r4 != MAJOR goto next         (omitted for a wildcard major)
///     if r5 != MINOR goto next         (omitted for a wildcard minor)
///     w0 = VERDICT; exit
///
/// and a final block returning the default verdict.
///
/// Rule semantics (the devices cgroup's, as runc gives them on v2):
/// - The default is deny. A rule matching every device with every access (type "a"
///   or absent, no major, no minor, access "rwm" or absent) resets: the default
///   becomes that rule's verdict and the rules before it no longer count.
/// - Among the remaining rules the last one that matches wins: blocks are emitted
///   in reverse order and the first matching block returns. runc reaches the same
///   result through its devices emulator, whose clean rule set has no overlapping
///   rules of opposite verdicts.
/// - Rules at the end of the chain whose verdict equals the default are dropped
///   (falling through gives the same answer), so "deny all; allow c 1:3 rwm" is
///   exactly runc's program.
///
/// Where this differs from runc, on purpose:
/// - A deny rule with partial access matches when the access asked for shares any
///   bit with the rule's (runc checks "within", so on a default-allow cgroup its
///   "deny c 1:3 w" lets an O_RDWR open through).
/// - Type "a" with a major, minor or partial access is a rule for both types
///   (no type check); runc's emulator and the v1 kernel treat any "a" as a reset.
/// - Two allow rules for the same device with split access ("r" then "w") are not
///   merged: an access asking for both needs one rule granting both.
public enum DeviceFilterProgram {
    /// BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_* (linux/bpf.h).
    public static let devBlock: Int32 = 1, devChar: Int32 = 2
    public static let accMknod: Int32 = 1, accRead: Int32 = 2, accWrite: Int32 = 4

    /// The license given to BPF_PROG_LOAD (runc's).
    public static let license = "Apache"

    struct Rule {
        var allow: Bool
        var type: Int32?      // nil: both block and char
        var major: Int32?     // nil: any
        var minor: Int32?
        var access: Int32     // BPF_DEVCG_ACC_* bits
    }

    static let allAccess = accMknod | accRead | accWrite

    /// The program for `rules`, in the order the spec gives them.
    public static func instructions(for rules: [LinuxDeviceCgroup]) throws -> [BPFInstruction] {
        var parsed = try rules.enumerated().map { try parse($0.element, index: $0.offset) }

        // The last allow-all / deny-all rule sets the default and hides earlier rules.
        var defaultAllow = false
        if let reset = parsed.lastIndex(where: { $0.type == nil && $0.major == nil && $0.minor == nil && $0.access == allAccess }) {
            defaultAllow = parsed[reset].allow
            parsed = Array(parsed[(reset + 1)...])
        }
        // Last match wins: test the latest rule first. Drop trailing no-ops.
        var chain = Array(parsed.reversed())
        while let last = chain.last, last.allow == defaultAllow { chain.removeLast() }

        var insns: [BPFInstruction] = [
            .loadWord(2, from: 1, offset: 0), .and32(2, 0xffff),
            .loadWord(3, from: 1, offset: 0), .rsh32(3, 16),
            .loadWord(4, from: 1, offset: 4),
            .loadWord(5, from: 1, offset: 8),
        ]
        for rule in chain {
            var block: [BPFInstruction] = []
            if let type = rule.type { block.append(.jne(2, type, 0)) }
            if rule.access != allAccess {
                block.append(.mov32(1, register: 3))
                block.append(.and32(1, rule.access))
                block.append(rule.allow ? .jne(1, register: 3, 0) : .jeq(1, 0, 0))
            }
            if let major = rule.major { block.append(.jne(4, major, 0)) }
            if let minor = rule.minor { block.append(.jne(5, minor, 0)) }
            block.append(.mov32(0, rule.allow ? 1 : 0))
            block.append(.exit)
            // Every jump in the block goes to the first instruction after it.
            for j in block.indices where block[j].isJump {
                block[j].off = Int16(block.count - j - 1)
            }
            insns += block
        }
        insns.append(.mov32(0, defaultAllow ? 1 : 0))
        insns.append(.exit)
        return insns
    }

    /// The program as the bytes BPF_PROG_LOAD takes.
    public static func bytes(_ insns: [BPFInstruction]) -> [UInt8] {
        insns.flatMap(\.bytes)
    }

    static func parse(_ d: LinuxDeviceCgroup, index i: Int) throws -> Rule {
        let field = "linux.resources.devices[\(i)]"
        var type: Int32?
        switch d.type ?? "a" {
        case "a": type = nil
        case "b": type = devBlock
        case "c": type = devChar
        case let t: throw CgroupError(message: "\(field).type: invalid cgroup device type \"\(t)\" (want a, b or c)")
        }
        var access: Int32 = 0
        let text = d.access ?? "rwm"
        for ch in text {
            switch ch {
            case "r": access |= accRead
            case "w": access |= accWrite
            case "m": access |= accMknod
            default: throw CgroupError(message: "\(field).access: \"\(text)\" must be some of r, w, m")
            }
        }
        if access == 0 { throw CgroupError(message: "\(field).access: \"\(text)\" must be some of r, w, m") }
        func number(_ n: Int64?, _ name: String) throws -> Int32? {
            guard let n, n != -1 else { return nil }   // absent or -1: any
            // Compared as a 64-bit jump against a zero-extended u32: keep it below 2^31
            // (real majors have 12 bits, minors 20).
            guard n >= 0, n <= Int64(Int32.max) else {
                throw CgroupError(message: "\(field).\(name): invalid device number \(n)")
            }
            return Int32(n)
        }
        return Rule(allow: d.allow, type: type, major: try number(d.major, "major"),
                    minor: try number(d.minor, "minor"), access: access)
    }
}
