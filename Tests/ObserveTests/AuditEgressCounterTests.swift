import XCTest
@testable import Observe
@testable import Linux

/// The egress columns: counted from the audit log's `egress` records, reading only
/// what was appended since the last update.
final class AuditEgressCounterTests: XCTestCase {
    var path = ""

    override func setUpWithError() throws {
        path = "/tmp/safehouse-observe-\(getpid())-\(name.filter(\.isLetter)).jsonl"
        unlink(path)
    }

    override func tearDown() { unlink(path) }

    var seq = 0
    /// A line as AuditLog writes it (the chain's fields do not matter to the counter).
    func line(_ id: String, _ kind: String, _ details: String, time: String = "2026-12-07T02:00:00.000000000Z") -> String {
        seq += 1
        return "{\"seq\":\(seq),\"time\":\"\(time)\",\"id\":\"\(id)\",\"kind\":\"\(kind)\",\"details\":\(details),\"prev\":\"\(String(repeating: "0", count: 64))\"}\n"
    }

    func decision(_ d: String, up: UInt64, down: UInt64) -> String {
        "{\"decision\":{\"bytesDown\":\(down),\"bytesUp\":\(up),\"decision\":\"\(d)\",\"durationMs\":3,\"host\":\"example.org\",\"method\":\"CONNECT\",\"port\":443}}"
    }

    func append(_ text: String) throws {
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
        try fd.write(text)
    }

    func testCountsDecisionsAndBytesPerSandbox() throws {
        try append(line("a", "open", "{\"log\":\"x\"}") + line("a", "start", "{}", time: "2026-12-07T02:00:10Z")
                   + line("a", "egress", decision("allowed", up: 100, down: 2000))
                   + line("b", "egress", decision("denied", up: 0, down: 0))
                   + line("a", "egress", decision("denied", up: 0, down: 0))
                   + line("a", "exec", "{\"args\":[\"egress\"]}"))
        let counter = AuditEgressCounter(path: path)
        counter.update()
        XCTAssertEqual(counter.tallies["a"]?.allowed, 1)
        XCTAssertEqual(counter.tallies["a"]?.refused, 1)
        XCTAssertEqual(counter.tallies["a"]?.bytesUp, 100)
        XCTAssertEqual(counter.tallies["a"]?.bytesDown, 2000)
        XCTAssertEqual(counter.tallies["b"]?.refused, 1)
        XCTAssertEqual(counter.tallies["b"]?.allowed, 0)
        XCTAssertEqual(counter.started["a"], RFC3339.seconds("2026-12-07T02:00:10Z"))
        XCTAssertNil(counter.unreadable)
        XCTAssertFalse(counter.missing)
    }

    func testReadsOnlyWhatWasAppended() throws {
        try append(line("a", "egress", decision("allowed", up: 1, down: 2)))
        let counter = AuditEgressCounter(path: path)
        counter.update()
        let offset = counter.offset
        XCTAssertEqual(offset, UInt64(try Files.read(path).count))
        counter.update()
        XCTAssertEqual(counter.tallies["a"]?.allowed, 1, "nothing new: nothing counted twice")
        try append(line("a", "egress", decision("allowed", up: 10, down: 20)))
        counter.update()
        XCTAssertEqual(counter.tallies["a"]?.allowed, 2)
        XCTAssertEqual(counter.tallies["a"]?.bytesUp, 11)
        XCTAssertGreaterThan(counter.offset, offset)
    }

    func testALineCutBetweenTwoReadsIsCountedOnce() throws {
        let whole = line("a", "egress", decision("allowed", up: 5, down: 6))
        let bytes = Array(whole.utf8)
        try append(String(decoding: bytes[..<40], as: UTF8.self))
        let counter = AuditEgressCounter(path: path)
        counter.update()
        XCTAssertNil(counter.tallies["a"], "half a record is not a record")
        try append(String(decoding: bytes[40...], as: UTF8.self))
        counter.update()
        XCTAssertEqual(counter.tallies["a"]?.allowed, 1)
        XCTAssertEqual(counter.tallies["a"]?.bytesDown, 6)
    }

    func testReadIsBoundedPerUpdate() throws {
        var text = ""
        for i in 0..<50 { text += line("a", "egress", decision("allowed", up: UInt64(i), down: 0)) }
        try append(text)
        let counter = AuditEgressCounter(path: path, maximumRead: 1000)
        counter.update()
        XCTAssertEqual(counter.offset, 1000)
        XCTAssertLessThan(counter.tallies["a"]?.allowed ?? 0, 50)
        for _ in 0..<100 { counter.update() }
        XCTAssertEqual(counter.tallies["a"]?.allowed, 50, "caught up over later updates")
        XCTAssertEqual(counter.tallies["a"]?.bytesUp, (0..<50).reduce(0, +))
    }

    func testRecordsWithoutBytesAndTheCapAreSaid() throws {
        try append(line("a", "egress", "{\"decision\":{\"decision\":\"allowed\",\"host\":\"h\",\"port\":80}}")
                   + line("a", "egress", "{\"dropped\":\"every later egress decision\",\"limit\":10000}"))
        let counter = AuditEgressCounter(path: path)
        counter.update()
        XCTAssertEqual(counter.tallies["a"]?.allowed, 1)
        XCTAssertEqual(counter.tallies["a"]?.recordsWithoutBytes, 1)
        XCTAssertEqual(counter.tallies["a"]?.capped, true)
    }

    func testAShorterLogIsCountedAgain() throws {
        try append(line("a", "egress", decision("allowed", up: 1, down: 1)) + line("a", "egress", decision("allowed", up: 1, down: 1)))
        let counter = AuditEgressCounter(path: path)
        counter.update()
        XCTAssertEqual(counter.tallies["a"]?.allowed, 2)
        unlink(path)
        counter.update()
        XCTAssertTrue(counter.missing)
        XCTAssertNil(counter.unreadable)
        try append(line("a", "egress", decision("denied", up: 0, down: 0)))
        counter.update()
        XCTAssertEqual(counter.tallies["a"]?.allowed, 0)
        XCTAssertEqual(counter.tallies["a"]?.refused, 1)
    }
}
