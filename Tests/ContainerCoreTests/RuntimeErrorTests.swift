import XCTest
@testable import ContainerCore
import OCI

final class RuntimeErrorTests: XCTestCase {
    func testAStageKeepsTheTextTheKindAndTheCause() {
        do {
            try stage("pivot_root") { throw RuntimeError.containerNotFound("c") }
            XCTFail("no error")
        } catch let e as RuntimeError {
            XCTAssertEqual(e.message, "pivot_root: container \"c\" does not exist")
            XCTAssertEqual(e.kind, .containerNotFound)
            XCTAssertEqual((e.cause as? RuntimeError)?.message, "container \"c\" does not exist")
        } catch { XCTFail("\(error)") }
    }
}
