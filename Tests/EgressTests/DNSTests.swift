@testable import Egress
import XCTest

final class DNSMessageTests: XCTestCase {
    func testParsesAQuery() throws {
        var bytes = DNSMessage.query(id: 0xBEEF, name: "WWW.Test", type: DNSMessage.RecordType.aaaa)
        bytes[11] = 1  // one additional record (an EDNS OPT) is allowed
        bytes += [0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]
        guard case .query(let q) = DNSMessage.parseQuery(bytes) else { return XCTFail() }
        XCTAssertEqual(q.id, 0xBEEF)
        XCTAssertTrue(q.recursionDesired)
        XCTAssertEqual(q.question, DNSMessage.Question(name: "www.test", type: 28, class: 1))
        // The question is echoed as it came (case kept), not re-encoded.
        XCTAssertEqual(q.questionBytes, Array(bytes[12..<(12 + 10 + 4)]))
        XCTAssertEqual(Array(q.questionBytes[1...3]), Array("WWW".utf8))
    }

    func testRefusesWhatIsNotOneStandardQuestion() {
        func reason(_ b: [UInt8]) -> String? {
            if case .invalid(_, let r, _) = DNSMessage.parseQuery(b) { return r }
            return nil
        }
        let good = DNSMessage.query(id: 7, name: "www.test", type: 1)
        XCTAssertEqual(reason([1]), "shorter than a DNS header")
        XCTAssertEqual(reason(Array(good[0..<11])), "shorter than a DNS header")
        var response = good; response[2] |= 0x80
        XCTAssertEqual(reason(response), "a response, not a query")
        var update = good; update[2] |= 5 << 3
        XCTAssertEqual(reason(update), "opcode 5 is not a standard query")
        var two = good; two[5] = 2
        XCTAssertEqual(reason(two), "2 questions (one is answered)")
        XCTAssertEqual(reason(Array(good.dropLast(3))), "truncated question")
        var pointer = Array(good[0..<12]); pointer += [0xC0, 12, 0, 1, 0, 1]
        XCTAssertEqual(reason(pointer), "compressed name in the question")
        if case .invalid(let id, _, let oversized) = DNSMessage.parseQuery([0x12, 0x34]) {
            XCTAssertEqual(id, 0x1234)
            XCTAssertFalse(oversized)
        } else { XCTFail() }
    }

    func testOversizedLabelsAndNamesAreMarked() {
        // 64 and 70 are length bytes DNS does not allow (a label holds at most 63).
        for n in [64, 70] {
            var b = Array(DNSMessage.query(id: 1, name: "x", type: 1)[0..<12])
            b += [UInt8(n)] + [UInt8](repeating: 97, count: n) + [4] + Array("test".utf8) + [0, 0, 1, 0, 1]
            XCTAssertEqual(DNSMessage.parseQuery(b), .invalid(id: 1, reason: "label of \(n) bytes (at most 63)", oversized: true))
        }
        let long = (0..<5).map { _ in String(repeating: "a", count: 60) }.joined(separator: ".")
        XCTAssertEqual(DNSMessage.parseQuery(DNSMessage.query(id: 2, name: long, type: 1)),
                       .invalid(id: 2, reason: "name longer than 255 bytes", oversized: true))
        let sixtyThree = String(repeating: "b", count: 63) + ".test"
        guard case .query(let q) = DNSMessage.parseQuery(DNSMessage.query(id: 3, name: sixtyThree, type: 1)) else { return XCTFail() }
        XCTAssertEqual(q.question.name, sixtyThree)
    }

    func testAnswersCarryTheAskedFamilyOnly() throws {
        guard case .query(let q) = DNSMessage.parseQuery(DNSMessage.query(id: 0x0102, name: "www.test", type: 1)) else { return XCTFail() }
        let a = try XCTUnwrap(IPAddress("198.51.100.2")), v6 = try XCTUnwrap(IPAddress("2001:db8::2"))
        let answer = DNSMessage.answer(q, addresses: [a, v6], ttl: 60)
        // Header: id, QR|RD|RA, NOERROR, 1 question, 1 answer.
        XCTAssertEqual(Array(answer[0..<12]), [1, 2, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0])
        XCTAssertEqual(Array(answer[12..<(12 + q.questionBytes.count)]), q.questionBytes)
        let record = Array(answer[(12 + q.questionBytes.count)...])
        XCTAssertEqual(record, [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 2])
        guard case .query(let q6) = DNSMessage.parseQuery(DNSMessage.query(id: 9, name: "www.test", type: 28)) else { return XCTFail() }
        let answer6 = DNSMessage.answer(q6, addresses: [a, v6], ttl: 60)
        XCTAssertEqual(answer6[7], 1)
        XCTAssertEqual(Array(answer6.suffix(16)), v6.bytes)
        // Another type (MX) of an allowed name: no data, not an error.
        guard case .query(let mx) = DNSMessage.parseQuery(DNSMessage.query(id: 9, name: "www.test", type: 15)) else { return XCTFail() }
        XCTAssertEqual(Array(DNSMessage.answer(mx, addresses: [a], ttl: 60)[2..<8]), [0x81, 0x80, 0, 1, 0, 0])
    }

    func testErrorAnswers() throws {
        guard case .query(let q) = DNSMessage.parseQuery(DNSMessage.query(id: 0xAAAA, name: "evil.test", type: 1)) else { return XCTFail() }
        let nx = DNSMessage.error(.nameError, to: q)
        XCTAssertEqual(Array(nx[0..<12]), [0xAA, 0xAA, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(nx.count, 12 + q.questionBytes.count)
        XCTAssertEqual(DNSMessage.error(.formatError, id: 5), [0, 5, 0x80, 0x81, 0, 0, 0, 0, 0, 0, 0, 0])
    }
}

final class DNSGuardTests: XCTestCase {
    let allowlist = try! Allowlist(annotation: "www.test,*.pkg.test,ssh.test:22,203.0.113.7")

    func judge(_ name: String, _ type: UInt16 = 1, class klass: UInt16 = 1) -> DNSGuard.Verdict {
        DNSGuard.judge(DNSMessage.Question(name: name, type: type, class: klass), allowlist: allowlist)
    }

    func testAllowedNamesResolveOnAnyPort() throws {
        XCTAssertEqual(judge("www.test"), .resolve(name: "www.test", rule: try AllowRule("www.test")))
        XCTAssertEqual(judge("a.pkg.test", 28), .resolve(name: "a.pkg.test", rule: try AllowRule("*.pkg.test")))
        // A host:port rule names the host: the port comes with the connection.
        XCTAssertEqual(judge("ssh.test"), .resolve(name: "ssh.test", rule: try AllowRule("ssh.test:22")))
    }

    func testEverythingElseIsRefusedAndSuspicious() {
        XCTAssertEqual(judge("pkg.test"), .refuse(code: .nameError, reason: "pkg.test matches no rule of network.allow", suspicious: true))
        XCTAssertEqual(judge("other.test"), .refuse(code: .nameError, reason: "other.test matches no rule of network.allow", suspicious: true))
        XCTAssertEqual(judge("www.test", 16), .refuse(code: .refused, reason: "TXT queries are refused (www.test)", suspicious: true))
        XCTAssertEqual(judge("www.test", 10), .refuse(code: .refused, reason: "NULL queries are refused (www.test)", suspicious: true))
        XCTAssertEqual(judge("www.test", 255), .refuse(code: .refused, reason: "ANY queries are refused (www.test)", suspicious: true))
        XCTAssertEqual(judge("www.test", class: 3), .refuse(code: .refused, reason: "query class 3 is not IN", suspicious: true))
        // An address written as a name is not looked up, even one a rule names.
        XCTAssertEqual(judge("203.0.113.7"), .refuse(code: .nameError, reason: "\"203.0.113.7\" is not a host name", suspicious: true))
        XCTAssertEqual(judge("a b.test"), .refuse(code: .nameError, reason: "\"a b.test\" is not a host name", suspicious: true))
    }

    func testWithADeciderANameNoRuleCoversIsAskedAbout() throws {
        func ask(_ name: String, _ type: UInt16 = 1, in list: Allowlist? = nil) -> DNSGuard.Verdict {
            DNSGuard.judge(DNSMessage.Question(name: name, type: type, class: 1), allowlist: list ?? allowlist, askable: true)
        }
        XCTAssertEqual(ask("other.test"), .ask(name: "other.test"))
        XCTAssertEqual(ask("www.test"), .resolve(name: "www.test", rule: try AllowRule("www.test")))
        // What is refused outright stays refused: TXT, and a name a refusal covers.
        XCTAssertEqual(ask("other.test", 16), .refuse(code: .refused, reason: "TXT queries are refused (other.test)", suspicious: true))
        let refusing = Allowlist(rules: allowlist.rules, refusals: [try AllowRule("bad.test")])
        XCTAssertEqual(ask("bad.test", in: refusing), .refuse(code: .nameError, reason: "bad.test matches no rule of network.allow", suspicious: true))
    }
}

final class DecidedRuleTests: XCTestCase {
    func testADecidersYesAdmitsButOpensNoReservedAddress() throws {
        let list = try Allowlist(annotation: "www.test").admitting(decided: try AllowRule("10.0.0.5:80"))
        XCTAssertEqual(list.admit(.address(IPAddress("10.0.0.5")!), port: 80), .allowed(rule: try AllowRule("10.0.0.5:80")))
        guard case .failure = list.check(addresses: [IPAddress("10.0.0.5")!], for: .address(IPAddress("10.0.0.5")!),
                                         rule: try AllowRule("10.0.0.5:80")) else {
            return XCTFail("a decided rule opened a private address")
        }
        XCTAssertFalse(list.covers(.name("other.test")))
    }
}
