import Foundation
@testable import Serve
import XCTest

/// A command's numbered log, its followers, stdin and kill, with /bin/sh standing in
/// for `safehouse exec` (the log does not care what runs).
final class SandboxCommandTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = NSTemporaryDirectory() + "serve-cmd-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func command(_ script: String, input: CommandRun.Input = .none, timeout: TimeInterval? = 20,
                         finished: XCTestExpectation? = nil) -> SandboxCommand {
        let plan = CommandPlan(sandboxId: "sbx-t", arguments: ["-c", script], argv: ["sh", "-c", script], cwd: nil,
                               pidFile: dir + "/pid", input: input, timeout: timeout, background: true, killOnDisconnect: false)
        return SandboxCommand(id: "cmd-t", sandboxId: "sbx-t", plan: plan, executable: "/bin/sh") { _ in finished?.fulfill() }
    }

    private func text(_ events: [SandboxCommand.Event]) -> [String] {
        events.map { event in
            switch event.kind {
            case .output(let stream, let text): return "\(stream.rawValue):\(text)"
            case .exit(let exit, let killed): return "exit:\(exit.code):\(killed)"
            }
        }
    }

    func testLogReplaysAfterASequenceNumber() throws {
        let done = expectation(description: "exit")
        let c = command("echo one; echo two >&2; exit 3", finished: done)
        try c.start()
        wait(for: [done], timeout: 20)
        let all = c.logged(after: 0)
        XCTAssertEqual(Set(text(all)), ["stdout:one\n", "stderr:two\n", "exit:3:false"])
        XCTAssertEqual(text(all).last, "exit:3:false")
        XCTAssertEqual(all.map(\.seq), Array(1...UInt64(all.count)))
        var replay: [String] = []
        let (missed, _) = c.subscribe(after: 1) { replay.append(self.text([$0])[0]) }
        XCTAssertEqual(missed, 0)
        XCTAssertEqual(replay, Array(text(all).dropFirst()))
        XCTAssertFalse(c.kill(), "an exited command cannot be killed")
        XCTAssertEqual(c.json()["state"] as? String, "exited")
        XCTAssertEqual(c.json()["exitCode"] as? Int, 3)
    }

    func testStdinStaysOpenUntilClosed() throws {
        let done = expectation(description: "exit")
        let c = command("cat", input: .open(Data("a".utf8)), finished: done)
        try c.start()
        XCTAssertTrue(c.writeInput(Data("b".utf8), close: false))
        XCTAssertTrue(c.writeInput(Data("c".utf8), close: true))
        wait(for: [done], timeout: 20)
        let out = text(c.logged(after: 0)).filter { $0.hasPrefix("stdout:") }.map { $0.dropFirst("stdout:".count) }.joined()
        XCTAssertEqual(out, "abc")
        XCTAssertFalse(c.writeInput(Data("late".utf8), close: false))
    }

    func testKillAndFollowerSeesTheExit() throws {
        let done = expectation(description: "exit")
        let c = command("exec sleep 30", timeout: nil, finished: done)
        var seen: [String] = []
        let lock = NSLock()
        _ = c.subscribe(after: 0) { event in lock.lock(); seen.append(self.text([event])[0]); lock.unlock() }
        try c.start()
        XCTAssertTrue(c.isRunning)
        XCTAssertTrue(c.kill())
        wait(for: [done], timeout: 20)
        lock.lock(); defer { lock.unlock() }
        XCTAssertEqual(seen.count, 1)
        XCTAssertTrue(seen.first?.hasPrefix("exit:") == true && seen.first?.hasSuffix(":true") == true, "\(seen)")
    }

    func testOldOutputIsDroppedPastTheRetainedBytes() throws {
        let done = expectation(description: "exit")
        // 3 MiB of output against 1 MiB kept.
        let c = command("head -c 3145728 /dev/zero | tr '\\\\0' x", finished: done)
        try c.start()
        wait(for: [done], timeout: 30)
        let kept = c.logged(after: 0)
        let bytes = kept.reduce(0) { n, e in if case .output(_, let t) = e.kind { return n + t.utf8.count }; return n }
        XCTAssertLessThanOrEqual(bytes, SandboxCommand.retainedBytes)
        XCTAssertGreaterThan(kept.first?.seq ?? 0, 1)
        let (missed, _) = c.subscribe(after: 0) { _ in }
        XCTAssertEqual(missed + bytes, 3 << 20)
    }
}
