import XCTest
@testable import safehouse

/// `safehouse top`'s keys: decoding what a raw terminal sends, and what each key does.
final class TopKeysTests: XCTestCase {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testDecodesLettersArrowsEnterAndEscape() {
        let (keys, rest) = TopKey.decode(bytes("j\u{1B}[A\u{1B}OB\r\nq") + [0x1B])
        XCTAssertEqual(keys, [.character(UInt8(ascii: "j")), .up, .down, .enter, .enter, .character(UInt8(ascii: "q")), .escape])
        XCTAssertEqual(rest, [])
    }

    func testASequenceCutAtTheEndWaitsForTheRest() {
        let first = TopKey.decode(bytes("k\u{1B}[1;"))
        XCTAssertEqual(first.keys, [.character(UInt8(ascii: "k"))])
        XCTAssertEqual(first.rest, bytes("\u{1B}[1;"))
        let second = TopKey.decode(first.rest + bytes("5Bx"))
        XCTAssertEqual(second.keys, [.down, .character(UInt8(ascii: "x"))])
    }

    func testOtherFunctionKeysAreSkippedWhole() {
        XCTAssertEqual(TopKey.decode(bytes("\u{1B}[15~q")).keys, [.character(UInt8(ascii: "q"))])
    }

    func testSelectionFollowsTheSandboxAndStaysInRange() {
        var c = TopController()
        let ids = ["a", "b", "c"]
        c.update(ids: ids)
        XCTAssertEqual(c.selected, "a")
        _ = c.handle(.up, ids: ids)
        XCTAssertEqual(c.selected, "a")
        _ = c.handle(.character(UInt8(ascii: "j")), ids: ids)
        _ = c.handle(.down, ids: ids)
        _ = c.handle(.down, ids: ids)
        XCTAssertEqual(c.selected, "c")
        c.update(ids: ["x", "c"])
        XCTAssertEqual(c.selected, "c", "the same sandbox, wherever it moved")
        c.update(ids: ["x"])
        XCTAssertEqual(c.selected, "x", "gone: the first")
    }

    func testKThenASelectionStopsOne() {
        var c = TopController()
        let ids = ["a", "b", "c"]
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "k")), ids: ids), .none)
        XCTAssertEqual(c.mode, .choosingStop)
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "j")), ids: ids), .none)
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "j")), ids: ids), .none)
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "k")), ids: ids), .none, "k moves up while choosing")
        XCTAssertEqual(c.handle(.enter, ids: ids), .stop("b"))
        XCTAssertEqual(c.mode, .browsing)
        _ = c.handle(.character(UInt8(ascii: "k")), ids: ids)
        XCTAssertEqual(c.handle(.escape, ids: ids), .none, "Esc cancels")
        XCTAssertEqual(c.mode, .browsing)
    }

    func testStopAllNeedsAY() {
        var c = TopController()
        let ids = ["a", "b"]
        _ = c.handle(.character(UInt8(ascii: "K")), ids: ids)
        XCTAssertEqual(c.mode, .confirmingStopAll)
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "n")), ids: ids), .none)
        XCTAssertEqual(c.mode, .browsing)
        _ = c.handle(.character(UInt8(ascii: "K")), ids: ids)
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "y")), ids: ids), .stopAll)
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "q")), ids: ids), .quit)
    }

    func testNothingToStopWithNoSandbox() {
        var c = TopController()
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "k")), ids: []), .none)
        XCTAssertEqual(c.mode, .browsing)
        XCTAssertEqual(c.handle(.character(UInt8(ascii: "K")), ids: []), .none)
        XCTAssertEqual(c.mode, .browsing)
    }
}
