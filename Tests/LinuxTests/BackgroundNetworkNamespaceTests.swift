import XCTest
import CLinux
@testable import Linux
#if canImport(Glibc)
import Glibc
#endif

final class BackgroundNetworkNamespaceTests: XCTestCase {
    /// The helper makes a namespace that is not ours, and leaves us in our own.
    func testMakesANewNamespaceAndLeavesOursAlone() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (CAP_SYS_ADMIN) to make a network namespace") }
        let ours = try Files.readLink("/proc/thread-self/ns/net")
        let made = try XCTUnwrap(BackgroundNetworkNamespace.start())
        let fd = try made.take()
        defer { fd.close() }
        let theirs = try Files.readLink("/proc/self/fd/\(fd.rawValue)")
        XCTAssertTrue(theirs.hasPrefix("net:["), theirs)
        XCTAssertNotEqual(theirs, ours)
        XCTAssertEqual(try Files.readLink("/proc/thread-self/ns/net"), ours)
        // Taken once only.
        XCTAssertThrowsError(try made.take())
        // The helper was reaped: no child of ours is left, not even a clone child.
        XCTAssertEqual(waitpid(-1, nil, WNOHANG | Int32(bitPattern: 0x4000_0000 /* __WALL */)), -1)
        XCTAssertEqual(errno, ECHILD)
    }

    /// Dropped without `take`: the helper is reaped, its namespace closed, and no
    /// thread or child stays behind.
    func testDroppedWithoutTakeLeavesNothing() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (CAP_SYS_ADMIN) to make a network namespace") }
        func threads() throws -> Int { try Files.list("/proc/self/task").count }
        func descriptors() throws -> Int { try Files.list("/proc/self/fd").count }
        let before = (try threads(), try descriptors())
        do { _ = BackgroundNetworkNamespace.start() }
        XCTAssertEqual(try threads(), before.0)
        XCTAssertEqual(try descriptors(), before.1)
        XCTAssertEqual(waitpid(-1, nil, WNOHANG | Int32(bitPattern: 0x4000_0000 /* __WALL */)), -1)
    }

    /// The reason the helper is not a thread: a child forked (raw clone3, as the
    /// runtime forks the init) while it is still at work must be able to change its
    /// ids. glibc's setuid/setgid signal every thread glibc knows of and wait for
    /// each; a pthread alive at the fork made such a child wait for ever.
    func testAChildForkedWhileTheHelperWorksCanSetItsIDs() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (CAP_SYS_ADMIN) to make a network namespace") }
        // In a process of one thread, as the runtime is: the test runner's own threads
        // (other suites' event loops winding down) would make any raw clone3 child
        // wait in setuid, helper or not. glibc's fork leaves the child one thread.
        let runner = fork()
        if runner == 0 {
            let helpers = (0..<5).compactMap { _ in BackgroundNetworkNamespace.start() }
            guard helpers.count == 5 else { _exit(2) }
            let pid = sh_clone3_fork(-1, 0)
            if pid == 0 {
                // setgroups/setgid/setuid go through glibc's all-threads broadcast.
                let ok = setgroups(0, nil) == 0 && setgid(0) == 0 && setuid(0) == 0
                _exit(ok ? 0 : 1)
            }
            guard pid > 0 else { _exit(3) }
            // A hang is the failure: give it five seconds, then kill it.
            let exited = Processes.waitForExit(pid, timeout: 5)
            if !exited { _ = kill(pid, SIGKILL) }
            let status = try? Processes.wait(pid)
            for helper in helpers { try? helper.take().close() }
            _exit(!exited ? 4 : status == .exited(0) ? 0 : 5)
        }
        XCTAssertGreaterThan(runner, 0, "fork: \(SystemError.message(for: errno))")
        guard runner > 0 else { return }
        let status = try Processes.wait(runner)
        let why = [2: "a helper did not start", 3: "clone3 failed", 4: "the child hung in setuid/setgid",
                   5: "the child failed to change its ids"]
        if case .exited(let code) = status, code != 0 { XCTFail(why[Int(code)] ?? "exit \(code)") }
        XCTAssertEqual(status, .exited(0))
    }
}
