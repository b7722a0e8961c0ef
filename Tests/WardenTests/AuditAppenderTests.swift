import XCTest
@testable import Warden
import Linux
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// The warden's appender, against a stand-in for safehouse-audit that writes its
/// arguments, one line per run, so what each run was given can be checked.
final class AuditAppenderTests: XCTestCase {
    var dir = ""
    var calls: String { dir + "/calls" }

    override func setUpWithError() throws {
        var template = Array("/tmp/appender-test.XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw XCTSkip("mkdtemp failed") }
        dir = String(cString: template)
    }

    override func tearDown() { _ = try? Files.removeTree(dir) }

    /// A script that appends "$@" (NUL-separated fields, one line per run) to `calls`,
    /// and fails with `failure` on stderr when that is set.
    func stub(failure: String? = nil) throws -> String {
        let path = dir + "/safehouse-audit"
        var text = "#!/bin/sh\nprintf '%s\\0' \"$@\" >> \(calls)\necho >> \(calls)\n"
        if let failure { text += "echo '\(failure)' >&2\nexit 1\n" }
        try Files.write(path, text, flags: O_WRONLY | O_CREAT | O_TRUNC)
        chmod(path, 0o755)
        return path
    }

    /// Each run's arguments.
    func runs() -> [[String]] {
        let bytes = (try? Files.read(calls)) ?? []
        return bytes.split(separator: UInt8(ascii: "\n")).map { line in
            line.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        }
    }

    func testRecordsGoInOrderToTheLogWithItsKeyAndId() throws {
        let appender = AuditAppender(AuditDestination(path: "/var/log/x.jsonl", key: "/k", id: "box"), executable: try stub())
        appender.recordDecision(#"{"decision":"denied","port":1}"#)
        appender.recordDecision(#"{"decision":"allowed","port":2}"#)
        appender.record(kind: "exit", details: #"{"code":3}"#)
        XCTAssertNil(appender.finish())
        let all = runs()
        XCTAssertFalse(all.isEmpty)
        // However the records were batched, each run names the log, id and key, and
        // the records come out in the order given.
        var records: [[String]] = []
        for args in all {
            XCTAssertEqual(Array(args.prefix(5)), ["audit", "append", "/var/log/x.jsonl", "--id", "box"])
            XCTAssertEqual(Array(args.suffix(2)), ["--key", "/k"])
            let body = Array(args.dropFirst(5).dropLast(2))
            for i in stride(from: 0, to: body.count, by: 4) {
                XCTAssertEqual(body[i], "--kind")
                XCTAssertEqual(body[i + 2], "--details")
                records.append([body[i + 1], body[i + 3]])
            }
        }
        XCTAssertEqual(records, [
            ["egress", #"{"decision":{"decision":"denied","port":1}}"#],
            ["egress", #"{"decision":{"decision":"allowed","port":2}}"#],
            ["exit", #"{"code":3}"#],
        ])
        // Records after finish are ignored (the warden is exiting).
        appender.record(kind: "exit", details: "{}")
        XCTAssertEqual(runs().count, all.count)
    }

    func testPastTheLimitOneRecordSaysDecisionsAreDropped() throws {
        let appender = AuditAppender(AuditDestination(path: "/l", key: nil, id: "a"), executable: try stub(), decisionLimit: 3)
        for port in 0..<10 { appender.recordDecision("{\"port\":\(port)}") }
        XCTAssertNil(appender.finish())
        let details = runs().flatMap { args in stride(from: 8, to: args.count, by: 4).map { args[$0] } }
        XCTAssertEqual(details, [
            #"{"decision":{"port":0}}"#, #"{"decision":{"port":1}}"#, #"{"decision":{"port":2}}"#,
            #"{"dropped":"every later egress decision of this sandbox (the warden's report counts them: egressDropped)","limit":3}"#,
        ])
        XCTAssertEqual(appender.dropped, 7)
    }

    func testALargeBacklogIsWrittenInBatches() throws {
        let appender = AuditAppender(AuditDestination(path: "/l", key: nil, id: "a"), executable: try stub())
        let n = AuditAppender.batchLimit * 2 + 7
        for port in 0..<n { appender.recordDecision("{\"port\":\(port)}") }
        XCTAssertNil(appender.finish())
        let all = runs()
        XCTAssertGreaterThanOrEqual(all.count, 3)
        XCTAssertTrue(all.allSatisfy { ($0.count - 5) / 4 <= AuditAppender.batchLimit })
        XCTAssertEqual(all.reduce(0) { $0 + ($1.count - 5) / 4 }, n)
    }

    func testAFailedAppendIsReported() throws {
        let appender = AuditAppender(AuditDestination(path: "/l", key: nil, id: "a"), executable: try stub(failure: "safehouse: audit: /l: torn"))
        appender.record(kind: "exit", details: "{}")
        XCTAssertEqual(appender.finish(), "safehouse: audit: /l: torn")
        let missing = AuditAppender(AuditDestination(path: "/l", key: nil, id: "a"), executable: nil)
        missing.record(kind: "exit", details: "{}")
        XCTAssertEqual(missing.finish(), "no safehouse-audit next to safehouse-warden")
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
