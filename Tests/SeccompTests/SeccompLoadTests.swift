import Linux
import OCI
import Seccomp
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Filters compiled in the test process and loaded in forked children.
final class SeccompLoadTests: XCTestCase {
    /// getcwd(3) in the child; 0 when it worked, else the errno.
    private static func getcwdErrno(_ buffer: UnsafeMutablePointer<CChar>) -> Int32 {
        getcwd(buffer, 4096) == nil ? errno : 0
    }

    private func withBuffer(_ body: (UnsafeMutablePointer<CChar>) throws -> Void) rethrows {
        // Allocated before the fork so the child allocates nothing once filtered.
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)
        defer { buffer.deallocate() }
        try body(buffer)
    }

    func testErrnoRetReachesTheChild() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow,
            syscalls: [LinuxSyscall(names: ["getcwd"], action: .errno, errnoRet: 38)]
        ))
        try withBuffer { buffer in
            XCTAssertEqual(try ChildProcess.run { Self.getcwdErrno(buffer) }, .exited(0), "unfiltered")
            XCTAssertEqual(try ChildProcess.run(with: program) { Self.getcwdErrno(buffer) }, .exited(38))
        }
    }

    func testErrnoWithoutErrnoRetIsEPERM() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow,
            syscalls: [LinuxSyscall(names: ["getcwd"], action: .errno)]
        ))
        try withBuffer { buffer in
            XCTAssertEqual(try ChildProcess.run(with: program) { Self.getcwdErrno(buffer) }, .exited(EPERM))
        }
    }

    /// close(2) on three unused fds, 1000...1002: bit k of the exit code is set when
    /// close(1000 + k) was denied with errno 77; the others must fail with EBADF.
    private func deniedCloses(_ args: [LinuxSeccompArg]) throws -> ExitStatus {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow,
            syscalls: [LinuxSyscall(names: ["close"], action: .errno, errnoRet: 77, args: args)]
        ))
        return try ChildProcess.run(with: program) {
            var mask: Int32 = 0
            for k in Int32(0)..<3 {
                if close(1000 + k) == 0 { return 99 }
                if errno == 77 { mask |= 1 << k } else if errno != EBADF { return 98 }
            }
            return mask
        }
    }

    func testEachOperatorComparesTheArgument() throws {
        let cases: [(LinuxSeccompOperator, UInt64, UInt64?, Int32)] = [
            (.equalTo, 1001, nil, 0b010),
            (.notEqual, 1001, nil, 0b101),
            (.lessThan, 1001, nil, 0b001),
            (.lessOrEqual, 1001, nil, 0b011),
            (.greaterThan, 1001, nil, 0b100),
            (.greaterOrEqual, 1001, nil, 0b110),
            // (fd & 3) == 2: only 1002.
            (.maskedEqual, 3, 2, 0b100),
        ]
        for (op, value, valueTwo, expected) in cases {
            let status = try deniedCloses([LinuxSeccompArg(index: 0, value: value, valueTwo: valueTwo, op: op)])
            XCTAssertEqual(status, .exited(expected), "\(op.rawValue)")
        }
    }

    func testTwoConditionsOnOneArgumentMatchEither() throws {
        // runc adds one rule per condition when an index repeats.
        let status = try deniedCloses([
            LinuxSeccompArg(index: 0, value: 1000, op: .equalTo),
            LinuxSeccompArg(index: 0, value: 1002, op: .equalTo),
        ])
        XCTAssertEqual(status, .exited(0b101))
    }

    func testConditionsOnTwoArgumentsMustAllHold() throws {
        // dup2(1000 + k, 2000) on unused fds: EBADF unless denied with 77.
        func deniedDups(newFD: UInt64) throws -> ExitStatus {
            let program = try SeccompProgram.compile(LinuxSeccomp(defaultAction: .allow, syscalls: [
                LinuxSyscall(names: ["dup2"], action: .errno, errnoRet: 77, args: [
                    LinuxSeccompArg(index: 0, value: 1001, op: .greaterOrEqual),
                    LinuxSeccompArg(index: 1, value: newFD, op: .equalTo),
                ]),
            ]))
            return try ChildProcess.run(with: program) {
                var mask: Int32 = 0
                for k in Int32(0)..<3 {
                    if dup2(1000 + k, 2000) >= 0 { return 99 }
                    if errno == 77 { mask |= 1 << k } else if errno != EBADF { return 98 }
                }
                return mask
            }
        }
        XCTAssertEqual(try deniedDups(newFD: 2000), .exited(0b110))
        XCTAssertEqual(try deniedDups(newFD: 2001), .exited(0))
    }

    func testDefaultDenyWithAnAllowList() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .errno,
            defaultErrnoRet: 13,
            syscalls: [LinuxSyscall(names: ["exit_group", "exit"], action: .allow)]
        ))
        try withBuffer { buffer in
            XCTAssertEqual(try ChildProcess.run(with: program) { Self.getcwdErrno(buffer) }, .exited(13))
        }
    }

    func testKillProcessKillsWithSIGSYS() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow, syscalls: [LinuxSyscall(names: ["getppid"], action: .killProcess)]
        ))
        XCTAssertEqual(try ChildProcess.run(with: program) { getppid() > 0 ? 0 : 1 }, .signaled(SIGSYS))
    }

    func testKillThreadKillsASingleThreadedChild() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow, syscalls: [LinuxSyscall(names: ["getppid"], action: .kill)]
        ))
        XCTAssertEqual(try ChildProcess.run(with: program) { getppid() > 0 ? 0 : 1 }, .signaled(SIGSYS))
    }

    func testTrapSendsSIGSYS() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow, syscalls: [LinuxSyscall(names: ["getppid"], action: .trap)]
        ))
        XCTAssertEqual(try ChildProcess.run(with: program) { getppid() > 0 ? 0 : 1 }, .signaled(SIGSYS))
    }

    func testLogAllowsTheCall() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow, syscalls: [LinuxSyscall(names: ["getppid"], action: .log)]
        ))
        let parent = getpid()
        XCTAssertEqual(try ChildProcess.run(with: program) { getppid() == parent ? 0 : 1 }, .exited(0))
    }

    func testTraceWithoutATracerFailsWithENOSYS() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow, syscalls: [LinuxSyscall(names: ["getcwd"], action: .trace, errnoRet: 5)]
        ))
        try withBuffer { buffer in
            XCTAssertEqual(try ChildProcess.run(with: program) { Self.getcwdErrno(buffer) }, .exited(ENOSYS))
        }
    }

    func testUnknownSyscallNamesAreSkipped() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow,
            syscalls: [LinuxSyscall(names: ["no_such_syscall", "getcwd", "no_such_syscall"], action: .errno, errnoRet: 38)]
        ))
        XCTAssertEqual(program.skippedSyscalls, ["no_such_syscall"])
        try withBuffer { buffer in
            XCTAssertEqual(try ChildProcess.run(with: program) { Self.getcwdErrno(buffer) }, .exited(38))
        }
    }

    func testFlagsAndArchitecturesLoad() throws {
        let program = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow,
            architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
            syscalls: [LinuxSyscall(names: ["getcwd"], action: .errno, errnoRet: 38)]
        ))
        XCTAssertNotEqual(program.flags, 0)
        try withBuffer { buffer in
            XCTAssertEqual(try ChildProcess.run(with: program) { Self.getcwdErrno(buffer) }, .exited(38))
        }
    }

    func testAProgramRebuiltFromItsPartsLoads() throws {
        // What a cache of compiled filters would store: the bytes and the flags.
        let compiled = try SeccompProgram.compile(LinuxSeccomp(
            defaultAction: .allow, syscalls: [LinuxSyscall(names: ["getcwd"], action: .errno, errnoRet: 38)]
        ))
        XCTAssertEqual(compiled.bpf.count % 8, 0)
        let rebuilt = SeccompProgram(bpf: compiled.bpf, flags: compiled.flags, usesNotify: false)
        try withBuffer { buffer in
            XCTAssertEqual(try ChildProcess.run(with: rebuilt) { Self.getcwdErrno(buffer) }, .exited(38))
        }
    }
}
