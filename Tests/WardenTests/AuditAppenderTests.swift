import XCTest
@testable import Warden
import Linux
import OCI
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// The warden's appender, against a real log in a temporary directory: what each
/// record became, in which order, chained and MACed as every other writer's.
final class AuditAppenderTests: XCTestCase {
    var dir = ""
    var log: String { dir + "/a.audit.jsonl" }

    override func setUpWithError() throws {
        var template = Array("/tmp/appender-test.XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw XCTSkip("mkdtemp failed") }
        dir = String(cString: template)
    }

    override func tearDown() { _ = try? Files.removeTree(dir) }

    /// The log's records after its open record: (id, kind, details) of each line.
    func records() -> [[String]] {
        let bytes = (try? Files.read(log)) ?? []
        return bytes.split(separator: UInt8(ascii: "\n")).dropFirst().compactMap { line -> [String]? in
            let text = String(decoding: line, as: UTF8.self)
            guard let o = FlatJSONObject(parsing: Array(line)), let id = o.string("id"), let kind = o.string("kind"),
                  let start = text.range(of: ",\"details\":"), let end = text.range(of: ",\"prev\":") else { return nil }
            return [id, kind, String(text[start.upperBound..<end.lowerBound])]
        }
    }

    func testRecordsGoInOrderToTheLogWithItsKeyAndId() throws {
        let key = dir + "/key"
        try Files.write(key, "0123456789abcdef0123456789abcdef", flags: O_WRONLY | O_CREAT | O_TRUNC)
        let appender = AuditAppender(AuditDestination(path: log, key: key, id: "box"))
        appender.recordDecision(#"{"decision":"denied","port":1}"#)
        appender.recordDecision(#"{"decision":"allowed","port":2}"#)
        appender.record(kind: "exit", details: #"{"code":3}"#)
        XCTAssertNil(appender.finish())
        XCTAssertEqual(records(), [
            ["box", "egress", #"{"decision":{"decision":"denied","port":1}}"#],
            ["box", "egress", #"{"decision":{"decision":"allowed","port":2}}"#],
            ["box", "exit", #"{"code":3}"#],
        ])
        // Every line carries a MAC made with the key.
        let lines = try Files.read(log).split(separator: UInt8(ascii: "\n"))
        XCTAssertTrue(lines.allSatisfy { String(decoding: $0, as: UTF8.self).contains(",\"mac\":\"") })
        // Records after finish are ignored (the warden is exiting).
        appender.record(kind: "exit", details: "{}")
        XCTAssertEqual(records().count, 3)
    }

    func testPastTheLimitOneRecordSaysDecisionsAreDropped() throws {
        let appender = AuditAppender(AuditDestination(path: log, key: nil, id: "a"), decisionLimit: 3)
        for port in 0..<10 { appender.recordDecision("{\"port\":\(port)}") }
        XCTAssertNil(appender.finish())
        XCTAssertEqual(records().map { $0[2] }, [
            #"{"decision":{"port":0}}"#, #"{"decision":{"port":1}}"#, #"{"decision":{"port":2}}"#,
            #"{"dropped":"every later egress decision of this sandbox (the warden's report counts them: egressDropped)","limit":3}"#,
        ])
        XCTAssertEqual(appender.dropped, 7)
    }

    func testALargeBacklogIsWrittenWhole() throws {
        let appender = AuditAppender(AuditDestination(path: log, key: nil, id: "a"))
        let n = AuditAppender.batchLimit * 2 + 7
        for port in 0..<n { appender.recordDecision("{\"port\":\(port)}") }
        XCTAssertNil(appender.finish())
        XCTAssertEqual(records().map { $0[2] }, (0..<n).map { "{\"decision\":{\"port\":\($0)}}" })
    }

    func testAFailedAppendIsReported() throws {
        // A torn last line: every append refuses the log.
        try Files.write(log, "{\"seq\":0", flags: O_WRONLY | O_CREAT | O_TRUNC)
        let appender = AuditAppender(AuditDestination(path: log, key: nil, id: "a"))
        appender.record(kind: "exit", details: "{}")
        XCTAssertEqual(appender.finish(), "\(log): line 1 is torn (no newline at its end): not appending; `safehouse audit verify` reports it")
        let missingKey = AuditAppender(AuditDestination(path: dir + "/b.jsonl", key: dir + "/nokey", id: "a"))
        missingKey.record(kind: "exit", details: "{}")
        XCTAssertEqual(missingKey.finish(), "key \(dir)/nokey: No such file or directory")
    }
}

/// Taskstats against real processes (root, CONFIG_TASKSTATS): the status of a process
/// that exits, or is killed, as its parent sees it.
final class ExitStatusWatchTests: XCTestCase {
    func spawn(_ script: String) throws -> pid_t {
        var pid: pid_t = 0
        let args = ["/bin/sh", "-c", script]
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let rc = posix_spawn(&pid, "/bin/sh", nil, nil, &cArgs, nil)
        guard rc == 0 else { throw XCTSkip("posix_spawn: \(rc)") }
        return pid
    }

    func watch(_ pid: pid_t) throws -> ExitStatusWatch {
        do { return try ExitStatusWatch(pid: pid) } catch {
            kill(pid, SIGKILL)
            var s: Int32 = 0
            waitpid(pid, &s, 0)
            throw XCTSkip("\(error)")
        }
    }

    func testAnExitCodeAndASignalAreSeen() throws {
        for (script, signal, expected) in [("sleep 0.3; exit 7", nil, ExitStatus.exited(7)),
                                           ("exec sleep 30", SIGKILL, ExitStatus.signaled(SIGKILL))] as [(String, Int32?, ExitStatus)] {
            let pid = try spawn(script)
            let w = try watch(pid)
            XCTAssertFalse(w.drain())
            if let signal { kill(pid, signal) }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            // Reaped already: the record was queued before the parent could see the exit.
            XCTAssertTrue(w.drain())
            XCTAssertEqual(w.status, expected)
            XCTAssertEqual(w.status, ExitStatus(waitStatus: status))
        }
    }

    func testAProcessThatExitedBeforeTheWatchIsNotGuessed() throws {
        let pid = try spawn("exit 4")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let w = try watch(pid)
        XCTAssertFalse(w.drain())
        XCTAssertNil(w.status)
        XCTAssertEqual(w.missingReason, "taskstats: no exit record for pid \(pid) (it exited before the warden registered)")
    }
}
