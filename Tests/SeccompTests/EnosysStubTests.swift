import CSeccomp
import Linux
import OCI
@testable import Seccomp
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// runc's -ENOSYS stub: system calls above the highest one the profile names fail with
/// ENOSYS (so glibc falls back to an older call), the rest go through the filter.
final class EnosysStubTests: XCTestCase {
    private func number(_ name: String) -> Int {
        Int(name.withCString { seccomp_syscall_resolve_name($0) })
    }

    /// The profile: exit calls (the child must be able to exit) and getcwd allowed,
    /// `named` denied with errno 77, everything else the default.
    private func profile(_ defaultAction: LinuxSeccompAction, errnoRet: UInt32? = nil, named: String = "getcwd") -> LinuxSeccomp {
        LinuxSeccomp(defaultAction: defaultAction, defaultErrnoRet: errnoRet, syscalls: [
            LinuxSyscall(names: ["exit_group", "exit", "getcwd"], action: .allow),
            LinuxSyscall(names: [named], action: .errno, errnoRet: 77),
        ])
    }

    /// -errno of each call in the child, in order, as "n:errno" pairs in the exit code
    /// is too small: the child returns 1 when every call gave what `expected` says.
    private func calls(_ program: SeccompProgram, _ expected: [(Int, Int)]) throws -> ExitStatus {
        try ChildProcess.run(with: program) {
            for (i, (nr, want)) in expected.enumerated() {
                if csh_raw_syscall0(nr) != want { return Int32(10 + i) }
            }
            return 1
        }
    }

    func testCallsAboveTheHighestNamedGetENOSYSTheOthersTheDefault() throws {
        let highest = number("exit_group")
        XCTAssertGreaterThan(highest, number("getppid"))
        let program = try SeccompProgram.compile(profile(.errno))
        XCTAssertEqual(try calls(program, [
            (highest + 1, -Int(ENOSYS)),      // newer than the profile
            (1000, -Int(ENOSYS)),
            (number("getppid"), -Int(EPERM)), // older, not named: the default errno
        ]), .exited(1))
    }

    func testANamedCallKeepsItsAction() throws {
        // The denied call is the profile's highest: it gets its own errno, not ENOSYS.
        let name = "faccessat2"
        XCTAssertGreaterThan(number(name), number("exit_group"))
        let program = try SeccompProgram.compile(profile(.errno, named: name))
        XCTAssertEqual(try calls(program, [(number(name), -77), (number(name) + 1, -Int(ENOSYS))]), .exited(1))
    }

    func testKillDefaultGetsTheStubToo() throws {
        let program = try SeccompProgram.compile(profile(.killProcess))
        XCTAssertEqual(try calls(program, [(1000, -Int(ENOSYS))]), .exited(1))
    }

    func testNoStubWhenTheDefaultLetsCallsThroughOrIsENOSYS() {
        for action in [LinuxSeccompAction.allow, .log, .trace] {
            XCTAssertEqual(EnosysStub.limits(for: profile(action), architectures: []), [], action.rawValue)
        }
        XCTAssertEqual(EnosysStub.limits(for: profile(.errno, errnoRet: 38), architectures: []), [])
        XCTAssertFalse(EnosysStub.limits(for: profile(.errno), architectures: []).isEmpty)
        XCTAssertFalse(EnosysStub.limits(for: profile(.kill), architectures: []).isEmpty)
    }

    func testListedArchitecturesEachGetTheirLimit() throws {
        let amd64 = "x86_64".withCString { seccomp_arch_resolve_name($0) }
        let x32 = "x32".withCString { seccomp_arch_resolve_name($0) }
        let x86 = "x86".withCString { seccomp_arch_resolve_name($0) }
        let limits = EnosysStub.limits(for: profile(.errno), architectures: [amd64, x86, x32])
        XCTAssertEqual(limits.count, 3)
        XCTAssertEqual(limits[0], EnosysStub.Limit(auditArch: amd64, x32: false, highest: UInt32(number("exit_group"))))
        XCTAssertEqual(limits[1].auditArch, x86)
        XCTAssertNil(limits[1].x32)
        // x32 shares x86_64's AUDIT_ARCH and sets bit 30 of the call number.
        XCTAssertEqual(limits[2].auditArch, amd64)
        XCTAssertEqual(limits[2].x32, true)
        XCTAssertEqual(limits[2].highest & EnosysStub.x32Bit, EnosysStub.x32Bit)
        // One section per AUDIT_ARCH value; every jump lands inside the program.
        let insns = EnosysStub.instructions(for: limits)
        for (i, insn) in insns.enumerated() where insn.code & 0x07 == 0x05 {
            if insn.code == 0x05 {
                XCTAssertEqual(i + 1 + Int(insn.k), insns.count, "ja \(i) goes to the filter")
            } else {
                XCTAssertLessThanOrEqual(i + 1 + Int(insn.jt), insns.count)
                XCTAssertLessThanOrEqual(i + 1 + Int(insn.jf), insns.count)
            }
        }
        XCTAssertEqual(insns.filter { $0.code == 0x15 }.count, 2)
    }
}
