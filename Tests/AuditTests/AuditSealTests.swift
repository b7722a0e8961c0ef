import Foundation
import XCTest
@testable import Audit
@testable import AuditChain

/// The head and the close records: a log cut at a line boundary, a record after a
/// close, a head lost, forged or behind, and an older log without a head.
final class AuditSealTests: XCTestCase {
    var dir = ""
    let key = AuditKey(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

    override func setUp() {
        dir = NSTemporaryDirectory() + "audit-seal-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func bytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }
    func lines(_ path: String) -> [String] { String(decoding: bytes(path), as: UTF8.self).split(separator: "\n").map(String.init) }
    func write(_ path: String, _ lines: [String]) {
        FileManager.default.createFile(atPath: path, contents: Data(lines.map { $0 + "\n" }.joined().utf8))
    }
    func verdict(_ path: String, key: AuditKey? = nil) -> AuditVerdict { AuditVerdict(log: path, bytes: bytes(path), key: key) }

    /// A sandbox's whole life: create, start, exit, delete and its close.
    func closedLog(_ key: AuditKey?) throws -> String {
        let path = dir + "/s.audit.jsonl"
        let log = AuditLog(path: path, key: key)
        try log.append(id: "sb", kind: "create")
        try log.append(id: "sb", kind: "start", details: ["pid": 42])
        try log.append(id: "sb", records: [("exit", ["code": 0]), ("delete", [:]), ("changes", ["created": 1]), ("close", [:])])
        return path
    }

    func testTheHeadFollowsEveryAppend() throws {
        let path = dir + "/h.audit.jsonl"
        let log = AuditLog(path: path, key: key)
        for i in 1...3 {
            try log.append(id: "sb", kind: "k\(i)")
            let head = try XCTUnwrap(try AuditHead.read(log: path))
            let ls = lines(path)
            XCTAssertEqual(head.count, UInt64(ls.count))
            XCTAssertEqual(head.last, AuditLog.sha256Hex(ls.last!))
            XCTAssertTrue(head.macMatches(key))
            XCTAssertFalse(head.macMatches(AuditKey(bytes: Array("another key, 16+ bytes".utf8))))
        }
        XCTAssertTrue(lines(path)[0].contains("\"details\":{\"head\":true,\"logId\":\""), lines(path)[0])
    }

    func testAClosedLogVerifiesClosedAnOpenOneOpen() throws {
        let path = try closedLog(key)
        let closed = verdict(path, key: key)
        XCTAssertNil(closed.failure)
        XCTAssertEqual(closed.summary, "intact, closed, 7 records, MACs verified, head verified")
        let running = dir + "/r.audit.jsonl"
        try AuditLog(path: running, key: key).append(id: "sb", records: [("create", [:]), ("start", [:])])
        let open = verdict(running, key: key)
        XCTAssertNil(open.failure)
        XCTAssertEqual(open.summary, "open, 3 records, intact so far (not closed: sb), MACs verified, head verified")
    }

    /// The attack the head exists for: whole lines dropped from the end.
    func testTailCutAtALineBoundaryFails() throws {
        let path = try closedLog(key)
        let all = lines(path)
        for keep in 1..<all.count {
            write(path, Array(all.prefix(keep)))
            let v = verdict(path, key: key)
            XCTAssertEqual(v.failure, "cut: the head says 7 records, the log has \(keep) (records were removed from its end)", "kept \(keep)")
            XCTAssertThrowsError(try AuditLog(path: path, key: key).append(id: "sb", kind: "create")) { e in
                XCTAssertTrue("\(e)".contains("cut: its head says 7 records, the log has \(keep)"), "\(e)")
            }
            XCTAssertEqual(lines(path), Array(all.prefix(keep)), "a cut log is never appended to")
            // Without the key the head still catches a cut that left it alone.
            XCTAssertNotNil(verdict(path).failure)
        }
        // Emptied: still a cut, and no new log is started over it.
        write(path, [])
        XCTAssertThrowsError(try AuditLog(path: path, key: key).append(id: "sb", kind: "create")) { e in
            XCTAssertTrue("\(e)".contains("cut: empty"), "\(e)")
        }
        XCTAssertEqual(bytes(path), [])
    }

    /// Cut, then the head rewritten to match: without the key it cannot be MACed.
    func testAHeadRewrittenWithoutTheKeyFails() throws {
        let path = try closedLog(key)
        let all = lines(path)
        write(path, Array(all.prefix(4)))
        let logId = try XCTUnwrap(AuditLog.sealedLogId(openLine: Array(all[0].utf8)))
        let forged = AuditHead(logId: logId, count: 4, last: AuditLog.sha256Hex(all[3]))
        try forged.write(log: path, key: nil)
        XCTAssertEqual(verdict(path, key: key).failure?.contains("no mac, but a key was given"), true)
        try AuditHead(logId: logId, count: 4, last: AuditLog.sha256Hex(all[3])).write(log: path, key: AuditKey(bytes: Array("not the log's key!".utf8)))
        XCTAssertEqual(verdict(path, key: key).failure?.contains("mac does not match"), true)
        // Without the key the verdict can only say the head matches, and says what that proves.
        let blind = verdict(path)
        XCTAssertNil(blind.failure)
        XCTAssertTrue(blind.summary.hasSuffix("head matches"), blind.summary)
        XCTAssertTrue(blind.notes.contains { $0.contains("without --key the head is only a checksum") })
    }

    func testAMissingHeadOrOneOfAnotherLogFails() throws {
        let path = try closedLog(key)
        let other = dir + "/o.audit.jsonl"
        try AuditLog(path: other, key: key).append(id: "sb", kind: "create")
        try FileManager.default.removeItem(atPath: AuditHead.path(ofLog: path))
        XCTAssertEqual(verdict(path, key: key).failure?.contains(".head is missing"), true)
        XCTAssertThrowsError(try AuditLog(path: path, key: key).append(id: "sb", kind: "create"))
        try FileManager.default.copyItem(atPath: AuditHead.path(ofLog: other), toPath: AuditHead.path(ofLog: path))
        XCTAssertEqual(verdict(path, key: key).failure?.contains("the head of another log"), true)
    }

    func testARecordAfterCloseIsRefusedAndFlagged() throws {
        let path = try closedLog(key)
        let before = bytes(path)
        XCTAssertThrowsError(try AuditLog(path: path, key: key).append(id: "sb", kind: "egress")) { e in
            XCTAssertTrue("\(e)".contains("sandbox sb is closed (its close record is line 7): a egress record after close is refused"), "\(e)")
        }
        XCTAssertEqual(bytes(path), before)
        // Forged with the key (so chain and MAC hold): the verifier still refuses it.
        let last = lines(path).last!
        let log = AuditLog(path: path, key: key)
        let forged = log.line(seq: 7, id: "sb", kind: "exec", details: "{}", prev: AuditLog.sha256Hex(last))
        write(path, lines(path) + [forged])
        XCTAssertEqual(verdict(path, key: key).failure,
                       "line 8: a exec record of sandbox sb after its close record (line 7): nothing may follow a close")
        // Another sandbox, or a new one of the same id, may follow.
        FileManager.default.createFile(atPath: path, contents: Data(before))
        try log.append(id: "other", kind: "create")
        try log.append(id: "sb", records: [("create", [:]), ("start", [:])])
        let v = verdict(path, key: key)
        XCTAssertNil(v.failure)
        XCTAssertEqual(v.summary, "open, 10 records, intact so far (not closed: sb, other), MACs verified, head verified")
    }

    /// A writer that died between its append and the head's update leaves the head
    /// behind: the log passes (its extra records are chained and MACed) with a note,
    /// and the next append brings the head up to date.
    func testAHeadBehindTheLogIsACrashNotACut() throws {
        let path = try closedLog(key)
        let all = lines(path)
        let logId = try XCTUnwrap(AuditLog.sealedLogId(openLine: Array(all[0].utf8)))
        try AuditHead(logId: logId, count: 5, last: AuditLog.sha256Hex(all[4])).write(log: path, key: key)
        let v = verdict(path, key: key)
        XCTAssertNil(v.failure)
        XCTAssertTrue(v.notes.contains { $0.hasPrefix("2 record(s) past the head") }, "\(v.notes)")
        // A head naming a line the log does not have there: cut and re-grown.
        try AuditHead(logId: logId, count: 5, last: AuditLog.sha256Hex(all[2])).write(log: path, key: key)
        XCTAssertEqual(verdict(path, key: key).failure?.hasPrefix("line 5: not the line the head names"), true)
        XCTAssertThrowsError(try AuditLog(path: path, key: key).append(id: "n", kind: "create"))
        try AuditHead(logId: logId, count: 5, last: AuditLog.sha256Hex(all[4])).write(log: path, key: key)
        try AuditLog(path: path, key: key).append(id: "n", kind: "create")
        XCTAssertEqual(try AuditHead.read(log: path)?.count, 8)
        XCTAssertNil(verdict(path, key: key).failure)
    }

    /// A log written before heads were kept: intact, its tail unproven, and appended
    /// to as it was (no head appears).
    func testAnOlderLogWithoutAHeadSaysItsTailIsUnproven() throws {
        let path = dir + "/old.audit.jsonl"
        let log = AuditLog(path: path)
        let open = log.line(seq: 0, id: "sb", kind: "open", details: "{\"logId\":\"00112233445566778899aabbccddeeff\",\"mac\":false}", prev: AuditLog.genesis)
        let create = log.line(seq: 1, id: "sb", kind: "create", details: "{}", prev: AuditLog.sha256Hex(open))
        write(path, [open, create])
        let v = verdict(path)
        XCTAssertNil(v.failure)
        XCTAssertEqual(v.summary, "open, 2 records, intact so far (not closed: sb), tail unproven")
        XCTAssertTrue(v.notes.contains { $0.contains("no head") && $0.contains("would not show") })
        try log.append(id: "sb", kind: "start")
        XCTAssertNil(try AuditHead.read(log: path))
        XCTAssertNil(verdict(path).failure)
        // A head beside a log that does not keep one: the log was swapped.
        try AuditHead(logId: "00112233445566778899aabbccddeeff", count: 3, last: AuditLog.sha256Hex(lines(path).last!)).write(log: path, key: nil)
        XCTAssertEqual(verdict(path).failure?.contains("does not say it keeps a head"), true)
    }

    /// The close check reads only each line's first members, so it must not be fooled
    /// by an id that needs escaping, nor by a nested object in details that looks like
    /// a record's id and kind.
    func testTheCloseCheckReadsIdsAsWrittenAndIgnoresDetails() throws {
        let path = dir + "/q.audit.jsonl"
        let log = AuditLog(path: path, key: key)
        let odd = "a\"b\\c d"
        try log.append(id: odd, records: [("create", [:]), ("close", [:])])
        try log.append(id: "x", kind: "note", details: ["id": odd, "kind": "create", "nested": ["id": odd, "kind": "create"]])
        XCTAssertThrowsError(try log.append(id: odd, kind: "exec")) { e in
            XCTAssertTrue("\(e)".contains("is closed (its close record is line 3)"), "\(e)")
        }
        // A sandbox that wrote nothing yet, and the one whose record mimics a close.
        try log.append(id: "never-seen", kind: "exec")
        try log.append(id: "y", kind: "note", details: ["x": ["id": "z", "kind": "close"]])
        try log.append(id: "z", kind: "exec")
        XCTAssertNil(verdict(path, key: key).failure)
        let lines = AuditLogLines(bytes: bytes(path))
        XCTAssertEqual(Array(lines.backwards()).count, 7)
        var fromTheEnd = lines.backwards()
        XCTAssertEqual(AuditLogLines.header(fromTheEnd.next()!)?.seq, 6)
        XCTAssertNil(AuditLogLines.header(ArraySlice(Array("{\"seq\":x}".utf8))))
    }

    func testAKeyedHeadNeedsTheKeyToAppend() throws {
        let path = try closedLog(key)
        XCTAssertThrowsError(try AuditLog(path: path).append(id: "x", kind: "create")) { e in
            XCTAssertTrue("\(e)".contains("the head is MACed: appending needs the log's key"), "\(e)")
        }
    }
}
