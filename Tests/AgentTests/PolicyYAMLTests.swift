import XCTest
@testable import Agent

final class PolicyYAMLTests: XCTestCase {
    func testBlockFlowAndScalars() throws {
        let text = """
        ---
        # a comment
        name: "quoted: value"   # trailing comment
        plain: a#b
        empty:
        list:
          - one
          - 'it''s'
          - key: v
            other: w
        inline: [a, "b, c", {k: v}]
        nested:
          deeper:
            leaf: "\\u00e9\\n"
        seqAtSameIndent:
        - x
        """
        let tree = try XCTUnwrap(try PolicyYAML.parse(text) as? [String: Any])
        XCTAssertEqual(tree["name"] as? String, "quoted: value")
        XCTAssertEqual(tree["plain"] as? String, "a#b")
        XCTAssertTrue(tree["empty"] is PolicyYAML.Null)
        let list = try XCTUnwrap(tree["list"] as? [Any])
        XCTAssertEqual(list[0] as? String, "one")
        XCTAssertEqual(list[1] as? String, "it's")
        XCTAssertEqual((list[2] as? [String: Any])?["other"] as? String, "w")
        let inline = try XCTUnwrap(tree["inline"] as? [Any])
        XCTAssertEqual(inline[1] as? String, "b, c")
        XCTAssertEqual((inline[2] as? [String: Any])?["k"] as? String, "v")
        XCTAssertEqual(((tree["nested"] as? [String: Any])?["deeper"] as? [String: Any])?["leaf"] as? String, "é\n")
        XCTAssertEqual(tree["seqAtSameIndent"] as? [String] ?? [], ["x"])
        XCTAssertNil(try PolicyYAML.parse("# nothing\n\n"))
    }

    func testNestingWithinTheLimitParses() throws {
        XCTAssertNotNil(try PolicyYAML.parse("a: " + String(repeating: "[", count: 60) + String(repeating: "]", count: 60) + "\n"))
        XCTAssertNotNil(try PolicyYAML.parse((0..<60).map { String(repeating: " ", count: $0) + "a:\n" }.joined() + String(repeating: " ", count: 60) + "b: 1\n"))
    }

    func testJSONDocument() throws {
        let tree = try XCTUnwrap(try PolicyYAML.parse("{\n  \"limits\": {\"memory\": \"1Gi\", \"pids\": 10},\n  \"env\": {\"A\": \"x\\\"y\"}\n}\n") as? [String: Any])
        XCTAssertEqual((tree["limits"] as? [String: Any])?["pids"] as? String, "10")
        XCTAssertEqual((tree["env"] as? [String: Any])?["A"] as? String, "x\"y")
    }

    func testUnsupportedAndBadInputNameTheLine() {
        let cases: [(String, String)] = [
            ("a: 1\na: 2\n", "line 2: a key is given twice"),
            ("a:\n\tb: 1\n", "line 2: tabs are not allowed for indentation"),
            ("a: &x 1\n", "line 1: anchors, aliases, tags and directives are not supported in policies"),
            ("a: |\n  text\n", "line 1: block scalars (| and >) are not supported in policies"),
            ("a: [1, 2\n", "line 1: unclosed ["),
            ("a: 1\n   b: 2\n", "line 2: unexpected indentation"),
            ("just text\n", "line 1: expected \"key: value\""),
            ("a: \"open\n", "line 1: unclosed quote"),
            ("a: " + String(repeating: "[", count: 200_000) + "\n", "line 1: nested more than 64 deep"),
            (String(repeating: "{\"a\": ", count: 100) + "1" + String(repeating: "}", count: 100), "line 1: nested more than 64 deep"),
            ((0..<70).map { String(repeating: " ", count: $0) + "a:\n" }.joined(), "line 65: nested more than 64 deep"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try PolicyYAML.parse(text), text) { XCTAssertEqual("\($0)", message, text) }
        }
    }
}
