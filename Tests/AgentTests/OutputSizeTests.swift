import XCTest
@testable import Agent

/// `filesystem.outputSize`: the bound on /output, read strictly, the disk limit
/// when omitted.
final class OutputSizeTests: XCTestCase {
    func testReadAndDefaultedToTheDiskLimit() throws {
        let set = try PolicyReader.parse("filesystem:\n  outputSize: 2Gi\nlimits:\n  disk: 512Mi\n", source: "o.yaml")
        XCTAssertEqual(set.filesystem.outputSize, 2 << 30)
        XCTAssertEqual(SandboxZones.outputSize(set), 2 << 30)
        let unset = try PolicyReader.parse("limits:\n  disk: 512Mi\n", source: "o.yaml")
        XCTAssertNil(unset.filesystem.outputSize)
        XCTAssertEqual(SandboxZones.outputSize(unset), 512 << 20)
    }

    func testBadValuesNameTheField() {
        for (text, message) in [
            ("filesystem:\n  outputSize: big\n", #"policy o.yaml: filesystem.outputSize: not a size (use 512Mi, 1.5Gi, 100M or a number of bytes)"#),
            ("filesystem:\n  outputSize: 1000\n", #"policy o.yaml: filesystem.outputSize: below the minimum of 1Mi"#),
        ] {
            XCTAssertThrowsError(try PolicyReader.parse(text, source: "o.yaml"), text) { XCTAssertEqual("\($0)", message) }
        }
    }
}
