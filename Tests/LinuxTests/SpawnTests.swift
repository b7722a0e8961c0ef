import XCTest
@testable import Linux
#if canImport(Glibc)
import Glibc
#endif

final class SpawnTests: XCTestCase {
    func testQuietChildWritesOnlyToTheGivenStderrAndStatusComesBack() throws {
        let (r, w) = try FileDescriptor.pipe()
        let pid = try Spawn.start("/bin/sh", ["sh", "-c", "echo out; echo err >&2; exit 3"], stdio: .quiet(stderr: w.rawValue)).get()
        w.close()
        let status = try Spawn.wait(pid).get()
        XCTAssertEqual(status >> 8, 3)
        XCTAssertEqual(String(decoding: try r.readAll(), as: UTF8.self), "err\n")
    }

    func testTheChildStartsWithAnEmptySignalMask() throws {
        // Blocked here (as `run` and the warden block what they forward): not in the child.
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let (r, w) = try FileDescriptor.pipe()
        let pid = try Spawn.start("/bin/sh", ["sh", "-c", "grep ^SigBlk: /proc/self/status >&2"], stdio: .quiet(stderr: w.rawValue)).get()
        w.close()
        _ = try Spawn.wait(pid).get()
        XCTAssertEqual(String(decoding: try r.readAll(), as: UTF8.self), "SigBlk:\t0000000000000000\n")
    }

    func testAMissingExecutableIsAnErrorNamingIt() {
        guard case .failure(let e) = Spawn.start("/nonexistent/x", ["x"], stdio: .inherit) else { return XCTFail("spawned") }
        XCTAssertEqual(e.errno, ENOENT)
        XCTAssertTrue("\(e)".contains("/nonexistent/x"), "\(e)")
    }
}
