@testable import Egress
import XCTest

/// `agent allow|deny` on a running sandbox's rules: what each change does to the rule
/// book and to what the next connection is judged by.
final class EgressRuleBookTests: XCTestCase {
    func book(_ rules: String...) throws -> EgressRuleBook { EgressRuleBook(policy: try rules.map(AllowRule.init)) }
    func rules(_ texts: String...) throws -> [AllowRule] { try texts.map(AllowRule.init) }

    func admitted(_ book: EgressRuleBook, _ host: String, _ port: UInt16 = 443) -> Bool {
        if case .allowed = book.allowlist.admit(Allowlist.Destination(host: host)!, port: port) { return true }
        return false
    }

    func testAllowAddsARuleTheNextDecisionSeesWithItsSource() throws {
        var b = try book("www.test")
        XCTAssertFalse(admitted(b, "other.test"))
        let changes = b.allow(try rules("other.test"), source: "uid 0 pid 7: safehouse agent allow x other.test")
        XCTAssertEqual(changes.map(\.description), ["added allow other.test"])
        XCTAssertTrue(admitted(b, "other.test"))
        XCTAssertEqual(b.entries.map(\.source), ["policy", "uid 0 pid 7: safehouse agent allow x other.test"])
        // Again: nothing new.
        XCTAssertEqual(b.allow(try rules("OTHER.test"), source: "s").map(\.description), ["unchanged allow OTHER.test"])
        XCTAssertEqual(b.entries.count, 2)
    }

    func testDenyOfAPolicyRuleRemovesIt() throws {
        var b = try book("www.test", "big.test:80")
        XCTAssertEqual(b.deny(try rules("www.test"), source: "s").map(\.description), ["removed allow www.test"])
        XCTAssertFalse(admitted(b, "www.test"))
        XCTAssertEqual(b.entries.map(\.rule.text), ["big.test:80"])
        // Another port is another rule: big.test:443 is not big.test:80, so it becomes a refusal.
        XCTAssertEqual(b.deny(try rules("big.test:443"), source: "s").map(\.description), ["added deny big.test:443"])
        XCTAssertTrue(admitted(b, "big.test", 80))
    }

    func testDenyOfAHostNoRuleEqualsRefusesItUnderAWildcard() throws {
        var b = try book("*.pkg.test")
        XCTAssertTrue(admitted(b, "evil.pkg.test"))
        XCTAssertEqual(b.deny(try rules("evil.pkg.test"), source: "s").map(\.description), ["added deny evil.pkg.test"])
        XCTAssertFalse(admitted(b, "evil.pkg.test"))
        XCTAssertTrue(admitted(b, "good.pkg.test"))
        guard case .denied(let why) = b.allowlist.admit(.name("evil.pkg.test"), port: 443) else { return XCTFail() }
        XCTAssertEqual(why, "evil.pkg.test port 443 is refused by rule \"deny evil.pkg.test\"")
        // allow of the same rule takes the refusal away (and adds the rule).
        XCTAssertEqual(b.allow(try rules("evil.pkg.test"), source: "s").map(\.description),
                       ["removed deny evil.pkg.test", "added allow evil.pkg.test"])
        XCTAssertTrue(admitted(b, "evil.pkg.test"))
    }

    func testARefusedPrefixRefusesAnAddressANameResolvesTo() throws {
        var b = try book("www.test")
        _ = b.deny(try rules("198.51.100.0/24"), source: "s")
        let result = b.allowlist.check(addresses: [IPAddress("198.51.100.2")!], for: .name("www.test"), rule: try AllowRule("www.test"))
        XCTAssertEqual(result, .failure(EgressDenial("198.51.100.2 is refused by rule \"deny 198.51.100.0/24\"")))
    }
}
