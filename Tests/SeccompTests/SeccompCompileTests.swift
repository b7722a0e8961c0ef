import Foundation
import OCI
@testable import Seccomp
import XCTest

/// Validation and compilation: nothing here loads a filter.
final class SeccompCompileTests: XCTestCase {
    private func compileError(_ seccomp: LinuxSeccomp, file: StaticString = #filePath, line: UInt = #line) -> SeccompError? {
        do {
            _ = try SeccompProgram.compile(seccomp)
            XCTFail("compiled", file: file, line: line)
            return nil
        } catch let error as SeccompError {
            XCTAssertFalse(error.description.contains("\n"), "one line", file: file, line: line)
            return error
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    func testUnknownArchitectureNamesTheField() {
        let error = compileError(LinuxSeccomp(defaultAction: .allow, architectures: ["SCMP_ARCH_X86", "SCMP_ARCH_VAX"]))
        XCTAssertEqual(error?.field, "linux.seccomp.architectures[1]")
        XCTAssertEqual(error?.kind, .invalid)
        XCTAssertTrue(error?.description.hasPrefix("linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"") ?? false)
    }

    func testUnknownFlagNamesTheField() {
        let error = compileError(LinuxSeccomp(defaultAction: .allow, flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS"]))
        XCTAssertEqual(error?.field, "linux.seccomp.flags[1]")
    }

    func testUnknownActionIsRefusedWhenTheConfigIsDecoded() throws {
        // Actions are a closed vocabulary: an unknown one never reaches compile.
        let rules = (0..<4).map { i in
            "{\"names\":[\"getcwd\"],\"action\":\"\(i == 3 ? "SCMP_ACT_BOGUS" : "SCMP_ACT_ERRNO")\"}"
        }.joined(separator: ",")
        let json = "{\"ociVersion\":\"1.2.0\",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[\(rules)]}}}"
        XCTAssertThrowsError(try Spec.decode(from: Array(json.utf8))) { error in
            XCTAssertTrue("\(error)".contains("linux.seccomp.syscalls[3].action"), "\(error)")
        }
    }

    func testNotifyAsTheDefaultActionIsRefused() {
        XCTAssertEqual(compileError(LinuxSeccomp(defaultAction: .notify, listenerPath: "/x"))?.field, "linux.seccomp.defaultAction")
    }

    func testErrnoRetOnAnActionWithoutOneIsRefused() {
        let error = compileError(LinuxSeccomp(defaultAction: .errno, syscalls: [
            LinuxSyscall(names: ["getcwd"], action: .errno, errnoRet: 1),
            LinuxSyscall(names: ["getcwd"], action: .allow, errnoRet: 1),
        ]))
        XCTAssertEqual(error?.field, "linux.seccomp.syscalls[1].errnoRet")
        XCTAssertEqual(compileError(LinuxSeccomp(defaultAction: .allow, defaultErrnoRet: 1))?.field, "linux.seccomp.defaultErrnoRet")
    }

    func testNotifyNeedsAListenerPath() {
        let error = compileError(LinuxSeccomp(defaultAction: .allow, syscalls: [LinuxSyscall(names: ["mkdir"], action: .notify)]))
        XCTAssertEqual(error?.field, "linux.seccomp.listenerPath")
    }

    func testNotifyOnWriteIsRefused() {
        let error = compileError(LinuxSeccomp(defaultAction: .allow, listenerPath: "/x", syscalls: [
            LinuxSyscall(names: ["mkdir", "write"], action: .notify),
        ]))
        XCTAssertEqual(error?.field, "linux.seccomp.syscalls[0].names[1]")
    }

    func testArgumentIndexBeyondFiveIsRefused() {
        let error = compileError(LinuxSeccomp(defaultAction: .allow, syscalls: [
            LinuxSyscall(names: ["close"], action: .errno, args: [LinuxSeccompArg(index: 6, value: 0, op: .equalTo)]),
        ]))
        XCTAssertEqual(error?.field, "linux.seccomp.syscalls[0].args[0].index")
    }

    func testEmptyNamesAreRefused() {
        XCTAssertEqual(compileError(LinuxSeccomp(defaultAction: .allow, syscalls: [LinuxSyscall(names: [], action: .errno)]))?.field,
                       "linux.seccomp.syscalls[0].names")
        XCTAssertEqual(compileError(LinuxSeccomp(defaultAction: .allow, syscalls: [LinuxSyscall(names: [""], action: .errno)]))?.field,
                       "linux.seccomp.syscalls[0].names[0]")
    }

    func testRulesWithTheDefaultActionAreDropped() throws {
        let plan = try SeccompCompiler.plan(LinuxSeccomp(defaultAction: .allow, syscalls: [
            LinuxSyscall(names: ["getcwd"], action: .allow),
            LinuxSyscall(names: ["mkdir"], action: .errno),
        ]))
        XCTAssertEqual(plan.rules.map(\.name), ["mkdir"])
    }

    func testWaitKillableRecvIsKeptOnlyWithANotifyRule() throws {
        let flag = SeccompFilterFlag.waitKillableRecv
        let without = try SeccompProgram.compile(LinuxSeccomp(defaultAction: .allow, flags: [flag.rawValue]))
        XCTAssertEqual(without.flags, 0)
        let with = try SeccompProgram.compile(LinuxSeccomp(defaultAction: .allow, flags: [flag.rawValue], listenerPath: "/x",
                                                           syscalls: [LinuxSyscall(names: ["mkdir"], action: .notify)]))
        XCTAssertEqual(with.flags, flag.kernelValue)
        XCTAssertTrue(with.usesNotify)
        XCTAssertEqual(with.listenerPath, "/x")
    }

    func testALongProfileCompiles() throws {
        // Above 32 rules the binary-tree optimisation is on.
        let names = ["read", "write", "openat", "close", "fstat", "mmap", "mprotect", "munmap", "brk", "rt_sigaction",
                     "rt_sigprocmask", "ioctl", "pread64", "pwrite64", "readv", "writev", "access", "pipe", "select",
                     "sched_yield", "mremap", "msync", "mincore", "madvise", "dup", "dup2", "pause", "nanosleep",
                     "getitimer", "alarm", "setitimer", "getpid", "sendfile", "socket", "connect", "exit_group"]
        let program = try SeccompProgram.compile(LinuxSeccomp(defaultAction: .errno, syscalls: names.map {
            LinuxSyscall(names: [$0], action: .allow)
        }))
        XCTAssertGreaterThan(program.instructionCount, names.count)
    }

    func testContainerProcessStateIsRuncsShape() throws {
        let bytes = SeccompProgram.containerProcessState(ociVersion: "1.2.0", pid: 42, metadata: "a \"b\"",
                                                         stateJSON: Array("{\"id\":\"c1\"}".utf8))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["ociVersion"] as? String, "1.2.0")
        XCTAssertEqual(object["fds"] as? [String], ["seccompFd"])
        XCTAssertEqual(object["pid"] as? Int, 42)
        XCTAssertEqual(object["metadata"] as? String, "a \"b\"")
        XCTAssertEqual((object["state"] as? [String: Any])?["id"] as? String, "c1")
    }
}
