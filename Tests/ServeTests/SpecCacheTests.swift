import Foundation
import XCTest
@testable import Serve

final class SpecCacheTests: XCTestCase {
    struct Refused: Error {}

    func testASpecIsMadeOncePerPolicyAndImageWhileFresh() throws {
        let cache = SpecCache()
        var made = 0
        func make() -> Data { made += 1; return Data("spec \(made)".utf8) }
        let t0 = Date()
        XCTAssertEqual(cache.spec(policy: "default", rootfs: "/a", now: t0, make: make), Data("spec 1".utf8))
        XCTAssertEqual(cache.spec(policy: "default", rootfs: "/a", now: t0 + 5, make: make), Data("spec 1".utf8))
        // Another image or policy is another spec.
        XCTAssertEqual(cache.spec(policy: "default", rootfs: "/b", now: t0 + 5, make: make), Data("spec 2".utf8))
        XCTAssertEqual(cache.spec(policy: "web", rootfs: "/a", now: t0 + 5, make: make), Data("spec 3".utf8))
        // Past its lifetime it is made again (an edited policy file applies).
        XCTAssertEqual(cache.spec(policy: "default", rootfs: "/a", now: t0 + SpecCache.lifetime + 1, make: make), Data("spec 4".utf8))
        XCTAssertEqual(made, 4)
    }

    func testAFailureIsNotKept() throws {
        let cache = SpecCache()
        XCTAssertThrowsError(try cache.spec(policy: "nope", rootfs: "/a") { throw Refused() })
        XCTAssertEqual(try cache.spec(policy: "nope", rootfs: "/a") { Data("made".utf8) }, Data("made".utf8))
    }
}
