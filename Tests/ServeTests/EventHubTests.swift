import Foundation
@testable import Serve
import XCTest

/// The event hub, the audit log's records as events, and the cgroup counters.
final class EventHubTests: XCTestCase {
    private func types(_ events: [EventHub.Event]) -> [String] { events.map(\.type) }

    func testFollowersSeeTheirSandboxInOrderAndTheEnd() {
        let hub = EventHub()
        hub.publish("a", "created")
        var one: [String] = [], all: [String] = []
        var ended = false
        let cancelOne = hub.follow("a", after: nil) { delivery in
            switch delivery {
            case .event(let e): one.append(e.type)
            case .end: ended = true
            }
        }
        let cancelAll = hub.follow(nil, after: nil) { delivery in
            if case .event(let e) = delivery { all.append("\(e.sandboxId):\(e.type)") }
        }
        hub.publish("b", "created")
        hub.publish("a", "paused")
        hub.publish("a", "killed")
        hub.end("a")
        hub.publish("a", "late")
        XCTAssertEqual(one, ["created", "paused", "killed"])
        XCTAssertTrue(ended)
        XCTAssertEqual(all, ["b:created", "a:paused", "a:killed", "a:late"])
        cancelAll()
        hub.publish("b", "paused")
        XCTAssertEqual(all.count, 4)
        cancelOne()
    }

    func testAfterSkipsWhatWasSeenAndHistoryIsBounded() {
        let hub = EventHub()
        for i in 0..<(EventHub.kept + 10) { hub.publish("a", "e\(i)") }
        let kept = hub.kept("a", after: nil)
        XCTAssertEqual(kept.count, EventHub.kept)
        XCTAssertEqual(kept.first?.type, "e10")
        let later = hub.kept("a", after: kept[kept.count - 3].seq)
        XCTAssertEqual(types(later), ["e\(EventHub.kept + 8)", "e\(EventHub.kept + 9)"])
        var replayed: [String] = []
        _ = hub.follow(nil, after: kept[kept.count - 2].seq) { if case .event(let e) = $0 { replayed.append(e.type) } }
        XCTAssertEqual(replayed, ["e\(EventHub.kept + 9)"])
    }

    func testAuditRecordsBecomeEvents() throws {
        let dir = NSTemporaryDirectory() + "serve-audit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/x.audit.jsonl"
        let hub = EventHub(), limits = LimitFeed(events: hub)
        let feed = AuditFeed(events: hub, limits: limits)
        feed.track("sbx-1", path: log)
        feed.poll() // no log yet: nothing, no error
        let lines = [
            #"{"seq":1,"id":"sbx-1","kind":"create","details":{}}"#,
            #"{"seq":2,"id":"sbx-1","kind":"egress","details":{"decision":{"decision":"denied","host":"other.test"}}}"#,
            #"{"seq":3,"id":"sbx-other","kind":"egress","details":{}}"#,
        ]
        try (lines.joined(separator: "\n") + "\n" + #"{"seq":4,"id":"sbx-1","kind":"war"#).write(toFile: log, atomically: false, encoding: .utf8)
        feed.poll()
        XCTAssertEqual(types(hub.kept("sbx-1", after: nil)), ["egress"])
        // The torn last line is held until its end comes.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        handle.seekToEndOfFile()
        handle.write(Data((#"den","details":{"report":{"oomKills":2,"pidsLimitHits":0,"reason":"exited"}}}"# + "\n").utf8))
        handle.write(Data((#"{"seq":5,"id":"sbx-1","kind":"changes","details":{"created":1}}"# + "\n").utf8))
        try handle.close()
        feed.poll("sbx-1")
        let events = hub.kept("sbx-1", after: nil)
        XCTAssertEqual(types(events), ["egress", "limit", "files"])
        XCTAssertEqual(events[1].details["limit"] as? String, "memory")
        XCTAssertEqual(AuditFeed.limits(report: ["oomKills": 2], published: (2, 0)).count, 0)
        XCTAssertEqual(AuditFeed.logPath(id: "sbx-9", bundle: dir), "/var/log/safehouse/sbx-9.audit.jsonl")
    }

    func testCgroupCounters() throws {
        let file = NSTemporaryDirectory() + "serve-pids-\(UUID().uuidString)"
        defer { unlink(file) }
        try "max 7\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(LimitFeed.counter(file, "max"), 7)
        try "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(LimitFeed.counter(file, "oom_kill"), 3)
        XCTAssertEqual(LimitFeed.counter(file + ".none", "oom_kill"), 0)
        // This process's own cgroups resolve to files that exist (or to none on this host).
        let own = LimitFeed.files(pid: getpid())
        for path in [own.memoryEvents, own.pidsEvents].compactMap({ $0 }) {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), path)
        }
    }
}
