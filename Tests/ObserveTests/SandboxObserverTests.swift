import XCTest
@testable import Cgroups
@testable import ContainerCore
@testable import Linux
@testable import Observe

/// The observer over a fake runtime root: a record whose init is this test process,
/// cgroup files in a temporary v2 tree, an audit log with egress records. What it reads
/// is only files: no process is signalled.
final class SandboxObserverTests: XCTestCase {
    var base = ""

    override func setUpWithError() throws {
        base = "/tmp/safehouse-observer-\(getpid())"
        try? Files.removeTree(base)
        for d in ["root", "cg/c", "log"] { try Files.makeDirectories(base + "/" + d) }
        try write("cg/cgroup.controllers", "cpu memory pids")
        try write("cg/c/cpu.stat", "usage_usec 1000000\n")
        try write("cg/c/memory.current", "8388608\n")
        try write("cg/c/memory.max", "268435456\n")
        try write("cg/c/memory.events", "oom_kill 1\n")
        try write("cg/c/pids.current", "3\n")
        try write("cg/c/pids.max", "64\n")
    }

    override func tearDown() { try? Files.removeTree(base) }

    func write(_ path: String, _ text: String) throws {
        try Files.writeAtomically(base + "/" + path, Array(text.utf8))
    }

    func record(_ id: String, annotations: [String: String]?, bundle: String = "/b") throws {
        let me = getpid()
        let r = ContainerRecord(id: id, pid: me, pidStartTime: Processes.startTime(of: me) ?? 0, bundle: bundle, rootfs: "/r",
                                created: "2026-12-07T02:00:00.000000000Z", owner: "root", annotations: annotations, hooks: nil,
                                ownsPidNamespace: true, cgroupPaths: [base + "/cg/c"])
        try Files.makeDirectories(base + "/root/" + id)
        try Files.writeAtomically(base + "/root/\(id)/state.json", r.encoded)
    }

    var observer: SandboxObserver {
        SandboxObserver(root: base + "/root", layout: CgroupLayout(hierarchies: [CgroupHierarchy(version: .v2, mountPoint: base + "/cg", controllers: [])]))
    }

    func testSamplesSandboxesOnly() throws {
        let log = base + "/log/a.jsonl"
        try write("log/a.jsonl", """
            {"seq":1,"time":"2026-12-07T02:00:05Z","id":"sbx-a","kind":"start","details":{},"prev":"0"}
            {"seq":2,"time":"2026-12-07T02:00:06Z","id":"sbx-a","kind":"egress","details":{"decision":{"bytesDown":70,"bytesUp":30,"decision":"allowed","host":"h","port":443}},"prev":"0"}

            """)
        try record("sbx-a", annotations: ["io.safehouse.policy": "web", "io.safehouse.limits.disk": "67108864",
                                          "io.safehouse.limits.timeout": "600", "io.safehouse.audit": log])
        try record("plain", annotations: ["org.example": "x"])
        let o = observer
        let first = o.sample()
        XCTAssertEqual(first.map(\.id), ["sbx-a"], "a container without a policy is not a sandbox")
        let s = try XCTUnwrap(first.first)
        XCTAssertEqual(s.policy, "web")
        XCTAssertEqual(s.backend, "native")
        XCTAssertEqual(s.state, .running)
        XCTAssertNil(s.cpuPercent, "one reading")
        XCTAssertEqual(s.usage.memoryBytes, 8 << 20)
        XCTAssertEqual(s.usage.memoryLimit, 256 << 20)
        XCTAssertEqual(s.usage.pids, 3)
        XCTAssertEqual(s.usage.oomKills, 1)
        XCTAssertEqual(s.egress.allowed, 1)
        XCTAssertEqual(s.egress.bytesUp, 30)
        XCTAssertNil(s.egressUnavailable)
        XCTAssertEqual(s.createdAt, RFC3339.seconds("2026-12-07T02:00:00Z"))
        // The limit runs from the start record, not from create.
        let left = try XCTUnwrap(s.secondsLeft)
        XCTAssertEqual(left + SandboxObserver.realTime(), RFC3339.seconds("2026-12-07T02:10:05Z")!, accuracy: 5)
        XCTAssertNil(s.rootChanges, "no ephemeral root in the record")

        try write("cg/c/cpu.stat", "usage_usec 1200000\n")
        usleep(100_000)
        let second = try XCTUnwrap(o.sample().first)
        let percent = try XCTUnwrap(second.cpuPercent)
        XCTAssertGreaterThan(percent, 0)
        XCTAssertLessThanOrEqual(percent, 200, "0.2 s of CPU in at least 0.1 s")
    }

    func testTheServiceDeadlineInTheBundleWins() throws {
        // The service's sandboxes: a far-out policy timeout, the real deadline in the bundle.
        try Files.makeDirectories(base + "/bundle")
        let deadline = SandboxObserver.realTime() + 90
        try write("bundle/" + ServiceDeadline.fileName, ServiceDeadline.text(deadline))
        try record("sbx-s", annotations: ["io.safehouse.policy": "default", "io.safehouse.limits.timeout": "2073600"],
                   bundle: base + "/bundle")
        let left = try XCTUnwrap(observer.sample().first?.secondsLeft)
        XCTAssertEqual(left, 90, accuracy: 3)
        try write("bundle/" + ServiceDeadline.fileName, "soon\n")
        let fallback = try XCTUnwrap(observer.sample().first?.secondsLeft)
        XCTAssertGreaterThan(fallback, 2_000_000, "not a number: the policy's timeout again")
    }

    func testAStoppedInitAndAnEngineSandboxWithoutALog() throws {
        try record("sbx-e", annotations: ["io.safehouse.policy": "default"])
        var state = try Files.read(base + "/root/sbx-e/state.json")
        // Another start time: the pid was recycled, the init is gone.
        let text = String(decoding: state, as: UTF8.self).replacingOccurrences(of: "\"pidStartTime\":", with: "\"pidStartTime\":9")
        state = Array(text.utf8)
        try Files.writeAtomically(base + "/root/sbx-e/state.json", state)
        let s = try XCTUnwrap(observer.sample().first)
        XCTAssertEqual(s.state, .stopped)
        XCTAssertNil(s.secondsLeft)
        XCTAssertEqual(s.egressUnavailable, "no audit log known", "an engine's annotations name no log; the CLI's resolver asks the policy")
    }
}
