import XCTest
@testable import Linux

final class ByteLinesTests: XCTestCase {
    func testLinesIncludeEmptyOnesAndAnUnterminatedLast() {
        let bytes = Array("a:b\n\nc".utf8)
        var lines: [String] = []
        ByteLines.forEach(in: bytes) { lines.append(String(decoding: bytes[$0], as: UTF8.self)) }
        XCTAssertEqual(lines, ["a:b", "", "c"])
        var none = 0
        ByteLines.forEach(in: []) { _ in none += 1 }
        XCTAssertEqual(none, 0)
    }

    func testSeparatorsUpToTheLimitWithinTheRange() {
        let bytes = Array("x:1:2:3\ny:4".utf8)
        var positions = [99]
        ByteLines.separators(UInt8(ascii: ":"), in: bytes, 0..<7, limit: 2, into: &positions)
        XCTAssertEqual(positions, [1, 3])
        ByteLines.separators(UInt8(ascii: ":"), in: bytes, 0..<7, limit: 9, into: &positions)
        XCTAssertEqual(positions, [1, 3, 5])
        ByteLines.separators(UInt8(ascii: ":"), in: bytes, 8..<11, limit: 9, into: &positions)
        XCTAssertEqual(positions, [9])
    }
}
