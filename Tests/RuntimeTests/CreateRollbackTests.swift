import Glibc
import XCTest
@testable import Linux
@testable import Runtime

/// What a failed `create` undoes, for each point it can fail at: exactly what was
/// made by then, in CreateRollback's order, and nothing after a removal that fails.
final class CreateRollbackTests: XCTestCase {
    let store = StateStore(root: "/run/safehouse")
    var ephemeral: String { EphemeralRoot.directory(root: "/run/safehouse", id: "c1") }

    func undo(_ rollback: CreateRollback, failing: String? = nil) -> [String] {
        let kernel = RecordingKernel()
        kernel.failing = failing
        rollback.undo(on: kernel)
        return kernel.calls
    }

    /// The state directory, the config copy, the exec FIFO, the socket pair, an
    /// ephemeral root, or the cgroup claim fail before any cgroup is made or any
    /// process forked: the state directory (with what is in it) and any ephemeral
    /// root go.
    func testFailureBeforeTheCgroupsAreMade() {
        XCTAssertEqual(undo(CreateRollback(store: store, id: "c1")), [
            "remove cgroups ", "remove ephemeral root \(ephemeral)", "remove /run/safehouse/c1",
        ])
    }

    /// Anything from the cgroup claim on fails before the fork (making the
    /// directories, opening the v2 one, the fork itself): the directories the runtime
    /// claimed go, and only those.
    func testFailureAfterTheCgroupsAreMade() {
        var rollback = CreateRollback(store: store, id: "c1")
        rollback.createdCgroups = ["/sys/fs/cgroup/c1"]
        XCTAssertEqual(undo(rollback), [
            "remove cgroups /sys/fs/cgroup/c1", "remove ephemeral root \(ephemeral)", "remove /run/safehouse/c1",
        ])
    }

    /// The init fails its set-up (or the runtime fails after the fork: the warden, the
    /// state file, the hooks): the init is killed and reaped before its cgroups go.
    func testFailureAfterTheFork() {
        var rollback = CreateRollback(store: store, id: "c1")
        rollback.createdCgroups = ["/sys/fs/cgroup/cpu/c1", "/sys/fs/cgroup/memory/c1"]
        rollback.initPid = 4242
        XCTAssertEqual(undo(rollback), [
            "kill 4242 \(SIGKILL)", "wait for exit 4242", "reap",
            "remove cgroups /sys/fs/cgroup/cpu/c1 /sys/fs/cgroup/memory/c1",
            "remove ephemeral root \(ephemeral)", "remove /run/safehouse/c1",
        ])
    }

    /// A sandbox's create fails once its warden runs: the warden goes first.
    func testFailureAfterTheWardenStarted() {
        var rollback = CreateRollback(store: store, id: "c1")
        rollback.createdCgroups = ["/sys/fs/cgroup/safehouse/c1"]
        rollback.initPid = 4242
        rollback.wardenPid = 4243
        XCTAssertEqual(undo(rollback), [
            "kill 4243 \(SIGKILL)", "wait 4243", "kill 4242 \(SIGKILL)", "wait for exit 4242", "reap",
            "remove cgroups /sys/fs/cgroup/safehouse/c1", "remove ephemeral root \(ephemeral)", "remove /run/safehouse/c1",
        ])
    }

    /// A removal that fails does not stop the others: nothing else is left.
    func testEachRemovalRunsWhenOneFails() {
        var rollback = CreateRollback(store: store, id: "c1")
        rollback.createdCgroups = ["/sys/fs/cgroup/c1"]
        rollback.initPid = 4242
        for failing in ["remove cgroups", "remove ephemeral root"] {
            let calls = undo(rollback, failing: failing)
            XCTAssertEqual(calls.last, "remove /run/safehouse/c1", failing)
            XCTAssertEqual(calls.filter { $0.hasSuffix("FAILED") }.count, 1, failing)
        }
    }
}
