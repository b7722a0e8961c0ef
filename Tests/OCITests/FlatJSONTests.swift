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

final class CanonicalJSONTests: XCTestCase {
    func testSortsKeysAtEveryLevelAndKeepsNumbersAsWritten() {
        XCTAssertEqual(CanonicalJSON.object(Array(#" {"b": {"d": 1, "c": [true, null, 1.50]}, "a": "\u00e9\n\"/"} "#.utf8)),
                       #"{"a":"é\n\"/","b":{"c":[true,null,1.50],"d":1}}"#)
        XCTAssertEqual(CanonicalJSON.object(Array("{}".utf8)), "{}")
    }

    func testRefusesWhatIsNotOneObject() {
        for text in ["[1]", "1", "\"s\"", "{\"a\":1,\"a\":2}", "{\"a\":1", "{} {}", ""] {
            XCTAssertNil(CanonicalJSON.object(Array(text.utf8)), text)
        }
    }
}
