import XCTest
@testable import ContainerCore
import Linux
import OCI

final class ContainerIDTests: XCTestCase {
    func testAcceptsRuncStyleIds() throws {
        for id in ["a", "abc-123", "A_b.c+d", String(repeating: "x", count: 1024)] {
            XCTAssertNoThrow(try ContainerID.validate(id), id)
        }
    }

    func testRejectsPathsAndEmpty() {
        for id in ["", ".", "..", "../x", "a/b", "a b", "x\0", String(repeating: "x", count: 1025)] {
            XCTAssertThrowsError(try ContainerID.validate(id), id)
        }
    }
}

final class ClockTests: XCTestCase {
    func testClockFormat() {
        let t = Clock.rfc3339Now()
        XCTAssertEqual(t.count, 30, t)
        XCTAssertTrue(t.hasSuffix("Z"))
    }
}
