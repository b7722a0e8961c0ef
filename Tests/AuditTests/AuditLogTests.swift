import Foundation
import XCTest
@testable import Audit
@testable import AuditChain

final class AuditLogTests: XCTestCase {
    var dir = ""

    override func setUp() {
        dir = NSTemporaryDirectory() + "audit-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func bytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }
    func lines(_ path: String) -> [String] {
        String(decoding: bytes(path), as: UTF8.self).split(separator: "\n").map(String.init)
    }
    func write(_ path: String, _ lines: [String]) {
        FileManager.default.createFile(atPath: path, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    func makeLog(_ key: AuditKey? = nil, records: Int = 4) throws -> String {
        let path = dir + "/sub/a.audit.jsonl"
        let log = AuditLog(path: path, key: key)
        for i in 0..<records { try log.append(id: "sb1", kind: "k\(i)", details: ["n": i, "s": "a b/c", "ok": true]) }
        return path
    }

    func testFirstLineOpensTheLogAndTheChainVerifies() throws {
        let path = try makeLog()
        let ls = lines(path)
        XCTAssertEqual(ls.count, 5)
        let open = try XCTUnwrap(AuditRecord(line: Array(ls[0].utf8)))
        XCTAssertEqual(open.kind, "open")
        XCTAssertEqual(open.seq, 0)
        XCTAssertEqual(open.prev, AuditLog.genesis)
        XCTAssertEqual((open.details["logId"] as? String)?.count, 32)
        let r1 = try XCTUnwrap(AuditRecord(line: Array(ls[1].utf8)))
        XCTAssertEqual(r1.seq, 1)
        XCTAssertEqual(r1.prev, AuditLog.sha256Hex(ls[0]))
        XCTAssertTrue(ls[1].hasPrefix("{\"seq\":1,\"time\":\""))
        XCTAssertTrue(ls[1].contains("\"details\":{\"n\":0,\"ok\":true,\"s\":\"a b/c\"}"), ls[1])
        // RFC 3339 with nanoseconds.
        XCTAssertNotNil(r1.time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$"#, options: .regularExpression), r1.time)
        let v = AuditVerifier.verify(bytes(path))
        XCTAssertNil(v.failure.map { "\($0)" })
        XCTAssertEqual(v.count, 5)
    }

    /// `audit append`'s path: details arrive as JSON text and are written canonical
    /// (sorted keys, compact) without JSONSerialization; the chain and MACs still hold,
    /// and records from both paths interleave in one chain.
    func testDetailTextsAreWrittenCanonicalAndChain() throws {
        let key = AuditKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let path = try makeLog(key, records: 1)
        let log = AuditLog(path: path, key: key)
        let seq = try log.append(id: "sb1", detailTexts: [
            (kind: "exit", details: #"{ "z": [1, {"b": null, "a": "x\ny"}], "a": -2.5e3 }"#),
            (kind: "delete", details: "{}"),
        ])
        XCTAssertEqual(seq, 3)
        try log.append(id: "sb1", kind: "after", details: ["n": 1])
        let ls = lines(path)
        XCTAssertEqual(ls.count, 5)
        XCTAssertTrue(ls[2].contains(#""details":{"a":-2.5e3,"z":[1,{"a":"x\ny","b":null}]}"#), ls[2])
        XCTAssertTrue(ls[3].contains(#""kind":"delete","details":{},"#), ls[3])
        let v = AuditVerifier.verify(bytes(path), key: key)
        XCTAssertNil(v.failure.map { "\($0)" })
        XCTAssertEqual(v.count, 5)
        XCTAssertThrowsError(try log.append(id: "sb1", detailTexts: [(kind: "bad", details: "[1]")]))
        XCTAssertThrowsError(try log.append(id: "sb1", detailTexts: [(kind: "bad", details: #"{"a":1,"a":2}"#)]))
        XCTAssertEqual(lines(path).count, 5, "a refused append writes nothing")
    }

    func testSHA256IsSwiftCrypto() {
        XCTAssertEqual(AuditLog.sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testEditedLineIsNamed() throws {
        let path = try makeLog()
        var ls = lines(path)
        ls[2] = ls[2].replacingOccurrences(of: "\"n\":1", with: "\"n\":7")
        write(path, ls)
        let v = AuditVerifier.verify(bytes(path))
        XCTAssertEqual(v.failure?.line, 4)
        XCTAssertTrue(v.failure?.reason.contains("line 3") ?? false)
    }

    func testRemovedInsertedReorderedLines() throws {
        let path = try makeLog()
        let ls = lines(path)
        write(path, ls.enumerated().filter { $0.offset != 2 }.map(\.element))
        XCTAssertEqual(AuditVerifier.verify(bytes(path)).failure?.line, 3)
        write(path, [ls[0], ls[1], ls[3], ls[2], ls[4]])
        XCTAssertEqual(AuditVerifier.verify(bytes(path)).failure?.line, 3)
        write(path, [ls[0], ls[1], ls[1], ls[2], ls[3], ls[4]])
        XCTAssertEqual(AuditVerifier.verify(bytes(path)).failure?.line, 3)
        write(path, Array(ls[1...]))
        XCTAssertEqual(AuditVerifier.verify(bytes(path)).failure?.line, 1)
    }

    func testTornLastLineIsReportedAndNotAppendedTo() throws {
        let path = try makeLog()
        var b = bytes(path)
        b.removeLast(10)
        FileManager.default.createFile(atPath: path, contents: Data(b))
        let v = AuditVerifier.verify(b)
        XCTAssertEqual(v.failure?.line, 5)
        XCTAssertTrue(v.failure?.reason.contains("torn") ?? false)
        XCTAssertThrowsError(try AuditLog(path: path).append(id: "sb1", kind: "x")) { e in
            XCTAssertTrue("\(e)".contains("line 5 is torn"), "\(e)")
        }
        XCTAssertEqual(bytes(path), b, "a torn log is never repaired")
    }

    func testKeyedLogRejectsRechainingWithoutTheKey() throws {
        let key = AuditKey(bytes: Array("0123456789abcdef0123456789abcdef".utf8))
        let path = try makeLog(key)
        XCTAssertNil(AuditVerifier.verify(bytes(path), key: key).failure.map { "\($0)" })
        XCTAssertTrue(AuditVerifier.verify(bytes(path)).macsUnchecked)
        XCTAssertEqual(AuditVerifier.verify(bytes(path), key: AuditKey(bytes: Array("another key, 16+ bytes".utf8))).failure?.line, 1)

        // An editor without the key edits line 3 and re-chains everything after it,
        // with MACs dropped (or kept stale): the chain holds, the MACs do not.
        var ls = lines(path)
        for stale in [true, false] {
            var edited = ls
            edited[2] = ls[2].replacingOccurrences(of: "\"n\":1", with: "\"n\":7")
            for i in 2..<edited.count {
                var r = edited[i]
                if !stale, let m = r.range(of: ",\"mac\":\"") { r = String(r[..<m.lowerBound]) + "}" }
                let prevStart = r.range(of: "\"prev\":\"")!.upperBound
                r.replaceSubrange(prevStart..<r.index(prevStart, offsetBy: 64), with: AuditLog.sha256Hex(edited[i - 1]))
                edited[i] = r
            }
            write(path, edited)
            XCTAssertNil(AuditVerifier.verify(bytes(path)).failure.map { "\($0)" }, "without the key, a re-chained log passes")
            XCTAssertEqual(AuditVerifier.verify(bytes(path), key: key).failure?.line, 3)
        }
        ls.removeAll()
    }

    func testConcurrentWritersNeitherInterleaveNorLose() throws {
        let path = dir + "/c.audit.jsonl"
        let writers = 8, each = 50
        var pids: [pid_t] = []
        for w in 0..<writers {
            let pid = fork()
            if pid == 0 {
                let log = AuditLog(path: path)
                for i in 0..<each {
                    // Big records, so that a torn or interleaved write would show.
                    guard (try? log.append(id: "w\(w)", kind: "k", details: ["i": i, "pad": String(repeating: "x", count: 3000)])) != nil else { _exit(1) }
                }
                _exit(0)
            }
            pids.append(pid)
        }
        for pid in pids {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            XCTAssertEqual(status, 0)
        }
        let v = AuditVerifier.verify(bytes(path))
        XCTAssertNil(v.failure.map { "\($0)" })
        XCTAssertEqual(v.count, writers * each + 1)
    }
}

final class AuditBatchTests: XCTestCase {
    func testSeveralRecordsInOneAppendChainAsSeparateOnes() throws {
        let path = NSTemporaryDirectory() + "audit-batch-" + UUID().uuidString + ".jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = AuditLog(path: path)
        try log.append(id: "b", kind: "create")
        XCTAssertEqual(try log.append(id: "b", records: [("exit", ["code": 0]), ("delete", [:]), ("changes", ["created": 1])]), 4)
        let bytes = Array(FileManager.default.contents(atPath: path) ?? Data())
        let v = AuditVerifier.verify(bytes)
        XCTAssertNil(v.failure.map { "\($0)" })
        XCTAssertEqual(v.count, 5)
        XCTAssertThrowsError(try log.append(id: "b", records: []))
    }
}
