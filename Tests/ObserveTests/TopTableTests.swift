import XCTest
@testable import Cgroups
@testable import Observe

final class TopTableTests: XCTestCase {
    func sample(_ id: String, memory: UInt64 = 12 << 20, limit: UInt64? = 256 << 20) -> SandboxSample {
        var usage = CgroupUsage()
        usage.memoryBytes = memory
        usage.memoryLimit = limit
        usage.pids = 3
        usage.pidsLimit = 64
        var egress = EgressTally()
        egress.allowed = 4
        egress.refused = 2
        egress.bytesUp = 1536
        egress.bytesDown = 3 << 20
        return SandboxSample(id: id, policy: "default", backend: "native", state: .running, createdAt: 1000,
                             secondsLeft: 125, cpuPercent: 12.34, usage: usage, hasCgroups: true, egress: egress,
                             egressUnavailable: nil, auditLogPending: nil, rootChanges: RootChanges.Usage(bytes: 8192, inodes: 9, limit: 1 << 30))
    }

    func testWideShowsEveryColumn() {
        let t = TopTable([sample("agent-0123456789abcdef")], width: nil, now: 1065)
        XCTAssertEqual(t.hidden, [])
        let header = t.lines[0].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        XCTAssertEqual(header, "ID POLICY BACKEND STATE AGE LEFT CPU% MEM/LIMIT PIDS EGRESS OK/NO BYTES UP/DOWN ROOT+")
        let row = t.lines[1].split(separator: " ").map(String.init)
        XCTAssertEqual(row, ["agent-0123456789abcdef", "default", "native", "running", "1m05s", "2m05s", "12.3",
                             "12M/256M", "3/64", "4/2", "1.5K/3.0M", "8.0K"])
    }

    func testNarrowKeepsIdMemoryAndPids() {
        let samples = [sample("agent-0123456789abcdef"), sample("agent-fedcba9876543210", limit: nil)]
        let t = TopTable(samples, width: 40, now: 1065)
        XCTAssertTrue(t.lines.allSatisfy { $0.count <= 40 }, "\(t.lines)")
        XCTAssertTrue(t.lines[0].hasPrefix("ID"))
        XCTAssertTrue(t.lines[0].contains("MEM/LIMIT"))
        XCTAssertTrue(t.lines[0].contains("PIDS"))
        XCTAssertTrue(t.hidden.contains("BACKEND"))
        XCTAssertTrue(t.hidden.contains("POLICY"))
        XCTAssertFalse(t.hidden.contains("MEM/LIMIT"))
        XCTAssertTrue(t.lines[1].contains("agent-0123456789abcdef"))
        XCTAssertTrue(t.lines[2].contains("12M/none"))
    }

    func testVeryNarrowCutsTheId() {
        let t = TopTable([sample("agent-0123456789abcdef")], width: 12, now: 1065)
        XCTAssertEqual(t.lines[0], "ID")
        XCTAssertEqual(t.lines[1], "agent-01234~")
        XCTAssertTrue(t.lines.allSatisfy { $0.count <= 12 })
        XCTAssertEqual(t.hidden.count, TopTable.columns.count - 1)
    }

    func testUnavailableEgressSaysSo() {
        var s = sample("a")
        s.egressUnavailable = "audit log /x: No such file or directory"
        s.egress.recordsWithoutBytes = 1
        let t = TopTable([s], width: nil, now: 1065)
        XCTAssertTrue(t.lines[1].contains("n/a"))
        XCTAssertTrue(t.notes.contains("a: egress n/a: audit log /x: No such file or directory"))
    }

    func testFormats() {
        XCTAssertEqual(Format.bytes(0), "0B")
        XCTAssertEqual(Format.bytes(1023), "1023B")
        XCTAssertEqual(Format.bytes(1536), "1.5K")
        XCTAssertEqual(Format.bytes(256 << 20), "256M")
        XCTAssertEqual(Format.bytes(3 << 30), "3.0G")
        XCTAssertEqual(Format.duration(5), "5s")
        XCTAssertEqual(Format.duration(192), "3m12s")
        XCTAssertEqual(Format.duration(3840), "1h04m")
        XCTAssertEqual(Format.duration(183_600), "2d03h")
        XCTAssertEqual(Format.percent(0.04), "0.0")
        XCTAssertEqual(Format.percent(199.96), "200.0")
    }
}
