import XCTest
@testable import OCI

final class FlatJSONTests: XCTestCase {
    func testRoundTrip() throws {
        var w = FlatJSONWriter()
        w.add("id", "c\"1\n")
        w.add("pid", Int64(-5))
        w.add("start", UInt64.max)
        w.add("own", true)
        w.add("paths", ["/a", "/b\\c"])
        w.add("ann", ["k": "v", "z": "é\u{1}"])
        let o = try XCTUnwrap(FlatJSONObject(parsing: w.bytes))
        XCTAssertEqual(o.string("id"), "c\"1\n")
        XCTAssertEqual(o.int64("pid"), -5)
        XCTAssertEqual(o.uint64("start"), UInt64.max)
        XCTAssertEqual(o.bool("own"), true)
        XCTAssertEqual(o.stringArray("paths"), ["/a", "/b\\c"])
        XCTAssertEqual(o.stringMap("ann"), ["k": "v", "z": "é\u{1}"])
        XCTAssertNil(o.string("pid"), "a number is not a string")
        XCTAssertNil(o.string("missing"))
    }

    func testRejectsNonObjects() {
        XCTAssertNil(FlatJSONObject(parsing: Array("[1]".utf8)))
        XCTAssertNil(FlatJSONObject(parsing: Array("{\"a\":".utf8)))
    }
}
