@testable import Egress
import XCTest

final class OriginalDestinationTests: XCTestCase {
    func testDecodesTheKernelsSocketAddresses() throws {
        // struct sockaddr_in as getsockopt(SO_ORIGINAL_DST) fills it: family 2 (host
        // order, little-endian here), port 443 big-endian, 198.51.100.2, zero padding.
        let v4: [UInt8] = [2, 0, 1, 187, 198, 51, 100, 2, 0, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(OriginalDestination(sockaddr: v4), OriginalDestination(address: try XCTUnwrap(IPAddress("198.51.100.2")), port: 443))
        // struct sockaddr_in6: family 10, port 22, flow info, address, scope id.
        let v6: [UInt8] = [10, 0, 0, 22, 0, 0, 0, 0] + [0x20, 0x01, 0x0d, 0xb8, 0, 5] + [UInt8](repeating: 0, count: 9) + [2] + [0, 0, 0, 0]
        let d6 = try XCTUnwrap(OriginalDestination(sockaddr: v6))
        XCTAssertEqual(d6.address, IPAddress("2001:db8:5::2"))
        XCTAssertEqual(d6.port, 22)
        XCTAssertEqual(d6.description, "[2001:db8:5::2]:22")
        XCTAssertNil(OriginalDestination(sockaddr: [2, 0, 1, 187]))              // short
        XCTAssertNil(OriginalDestination(sockaddr: [1, 0] + v4.dropFirst(2)))    // AF_UNIX
        XCTAssertNil(OriginalDestination(sockaddr: [2, 0, 0, 0] + v4.dropFirst(4)))  // port 0
        XCTAssertNil(OriginalDestination(sockaddr: Array(v6[0..<20])))            // short v6
    }

    func testAConnectionStraightToTheListenerIsNotCaptured() throws {
        XCTAssertTrue(OriginalDestination(address: try XCTUnwrap(IPAddress("127.0.0.1")), port: 15001).isCaptureListener(port: 15001))
        XCTAssertTrue(OriginalDestination(address: try XCTUnwrap(IPAddress("::1")), port: 15001).isCaptureListener(port: 15001))
        XCTAssertFalse(OriginalDestination(address: try XCTUnwrap(IPAddress("198.51.100.2")), port: 15001).isCaptureListener(port: 15001))
        XCTAssertFalse(OriginalDestination(address: try XCTUnwrap(IPAddress("127.0.0.1")), port: 80).isCaptureListener(port: 15001))
    }
}

final class ClaimedNameTests: XCTestCase {
    func sniff(_ s: String, _ port: UInt16 = 80) -> ClaimedName.Sniff { ClaimedName.sniff(Array(s.utf8), port: port) }

    func testHTTPHost() {
        XCTAssertEqual(sniff(""), .needMoreBytes)
        XCTAssertEqual(sniff("GE"), .needMoreBytes)
        XCTAssertEqual(sniff("GET /x HTTP/1.1\r\n"), .needMoreBytes)
        XCTAssertEqual(sniff("GET /x HTTP/1.1\r\nHost: WWW.test:80\r\nUser-Agent: w\r\n\r\n"), .claimed("www.test"))
        XCTAssertEqual(sniff("GET /x HTTP/1.1\r\nhost: 198.51.100.2\r\n\r\n"), .claimed("198.51.100.2"))
        XCTAssertEqual(sniff("GET /x HTTP/1.0\r\n\r\n"), .claimed(nil))
        // Not HTTP: judged by address, at once.
        XCTAssertEqual(sniff("\u{1}\u{2}binary"), .claimed(nil))
        XCTAssertEqual(sniff("hello\r\n"), .claimed(nil))
        // Other ports are never waited on (the server may speak first).
        XCTAssertEqual(sniff("", 22), .claimed(nil))
        XCTAssertTrue(ClaimedName.sniffs(port: 443))
        XCTAssertFalse(ClaimedName.sniffs(port: 8443))
    }

    func testTLSServerName() {
        XCTAssertEqual(ClaimedName.sniff([], port: 443), .needMoreBytes)
        XCTAssertEqual(ClaimedName.sniff(RequestParsingTests.clientHello(names: ["www.test"]), port: 443), .claimed("www.test"))
        XCTAssertEqual(ClaimedName.sniff(Array(RequestParsingTests.clientHello(names: ["www.test"]).prefix(20)), port: 443), .needMoreBytes)
        if case .notTLS = sniff("GET / HTTP/1.1\r\n\r\n", 443) {} else { XCTFail("plain text on 443") }
    }

    func testPlainHTTPGoesUpstreamAsOneRequest() {
        let text = "GET /a?b HTTP/1.1\r\nHost: www.test\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n"
        guard case .request(let r) = ClaimedName.originRequest(Array(text.utf8)) else { return XCTFail() }
        XCTAssertEqual(String(decoding: r.head, as: UTF8.self), "GET /a?b HTTP/1.1\r\nHost: www.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(r.bodyLength, 2)
        XCTAssertEqual(r.headLength, text.utf8.count - 2 - 35)
        XCTAssertEqual(ClaimedName.originRequest(Array("POST / HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)),
                       .invalid("a request body needs Content-Length (Transfer-Encoding is not relayed)"))
        XCTAssertEqual(ClaimedName.originRequest(Array("GET / HTTP/1.0\r\n\r\n".utf8)), .notHTTP)
        XCTAssertEqual(ClaimedName.originRequest(Array("SSH-2.0-x\r\n".utf8)), .notHTTP)
    }
}

final class CapturedConnectionTests: XCTestCase {
    let allowlist = try! Allowlist(annotation: "www.test,ssh.test:22,203.0.113.0/24,private.test,10.9.9.9:5432")
    let world = IPAddress("198.51.100.2")!
    var book = AddressBook()
    var lookups: [String: [IPAddress]] = ["www.test": [IPAddress("198.51.100.2")!], "private.test": [IPAddress("10.0.0.5")!]]

    func decide(_ address: String, _ port: UInt16, claimed: String? = nil) -> Result<CapturedConnection.Admitted, EgressDenial> {
        let lookups = self.lookups
        return CapturedConnection.decide(OriginalDestination(address: IPAddress(address)!, port: port), claimed: claimed,
                                         allowlist: allowlist, book: book, resolve: { lookups[$0] ?? [] })
    }

    func denial(_ r: Result<CapturedConnection.Admitted, EgressDenial>) -> String? {
        if case .failure(let d) = r { return d.description }
        return nil
    }

    func testClaimedNamesAreJudgedAsRequests() throws {
        XCTAssertEqual(try decide("198.51.100.2", 443, claimed: "www.test").get(),
                       CapturedConnection.Admitted(destination: .name("www.test"), rule: try AllowRule("www.test")))
        XCTAssertEqual(denial(decide("198.51.100.2", 443, claimed: "other.test")), "other.test matches no rule of network.allow")
        // An allowed name sent to an address it does not have (not from DNS, not now).
        XCTAssertEqual(denial(decide("198.51.100.9", 80, claimed: "www.test")), "198.51.100.9 is not an address of www.test")
        // ...unless the sandbox's DNS gave that address out for it.
        book.remember([IPAddress("198.51.100.9")!], for: "www.test")
        XCTAssertNoThrow(try decide("198.51.100.9", 80, claimed: "www.test").get())
        // A literal Host must be the address dialled.
        XCTAssertEqual(denial(decide("203.0.113.5", 80, claimed: "203.0.113.6")), "203.0.113.6 was asked of 203.0.113.5, another address")
        XCTAssertNoThrow(try decide("203.0.113.5", 80, claimed: "203.0.113.5").get())
    }

    func testAddressesMapBackToTheNamesDNSGaveOut() throws {
        XCTAssertEqual(denial(decide("198.51.100.2", 22)), "198.51.100.2 matches no rule of network.allow")
        book.remember([world], for: "ssh.test")
        XCTAssertEqual(try decide("198.51.100.2", 22).get(), CapturedConnection.Admitted(destination: .name("ssh.test"), rule: try AllowRule("ssh.test:22")))
        XCTAssertEqual(denial(decide("198.51.100.2", 2222)), "ssh.test port 2222 is not allowed: rule \"ssh.test:22\" allows ports 22")
    }

    func testAddressRulesAndGuards() throws {
        XCTAssertEqual(try decide("203.0.113.40", 443).get().destination, .address(IPAddress("203.0.113.40")!))
        // Reserved ranges stay closed unless a rule names the exact address.
        XCTAssertEqual(denial(decide("10.0.0.5", 80)), "10.0.0.5 matches no rule of network.allow")
        XCTAssertNoThrow(try decide("10.9.9.9", 5432).get())
        book.remember([IPAddress("10.0.0.5")!], for: "private.test")
        XCTAssertEqual(denial(decide("10.0.0.5", 80, claimed: "private.test")),
                       "10.0.0.5 (resolved from private.test) is a private address (10.0.0.0/8); rule \"private.test\" does not name it exactly")
        XCTAssertEqual(denial(decide("10.0.0.5", 80)),
                       "10.0.0.5 (resolved from private.test) is a private address (10.0.0.0/8); rule \"private.test\" does not name it exactly")
        // IPv4-mapped forms are judged as IPv4.
        XCTAssertEqual(denial(decide("::ffff:10.0.0.5", 443, claimed: "www.test")), "10.0.0.5 is not an address of www.test")
    }

    func testClaimsOnANamedDestination() {
        XCTAssertNil(CapturedConnection.checkClaim(nil, for: .name("www.test"), port: 443, allowlist: allowlist))
        XCTAssertNil(CapturedConnection.checkClaim("www.test", for: .name("www.test"), port: 443, allowlist: allowlist))
        XCTAssertEqual(CapturedConnection.checkClaim("evil.test", for: .name("www.test"), port: 443, allowlist: allowlist)?.description,
                       "evil.test (server name or Host) does not match the requested host www.test")
        XCTAssertEqual(CapturedConnection.checkClaim("evil.test", for: .address(world), port: 443, allowlist: allowlist)?.description,
                       "evil.test (server name or Host) is not allowed")
        XCTAssertNil(CapturedConnection.checkClaim("www.test", for: .address(world), port: 443, allowlist: allowlist))
    }

    func testTheAddressBookIsBounded() {
        var small = AddressBook(capacity: 2)
        small.remember([IPAddress("192.0.2.1")!, IPAddress("192.0.2.2")!], for: "a.test")
        small.remember([IPAddress("192.0.2.2")!], for: "b.test")
        XCTAssertEqual(small.names(of: IPAddress("192.0.2.2")!), ["a.test", "b.test"])
        small.remember([IPAddress("192.0.2.3")!], for: "c.test")
        XCTAssertEqual(small.count, 2)
        XCTAssertEqual(small.names(of: IPAddress("192.0.2.1")!), [])
        XCTAssertEqual(small.names(of: IPAddress("::ffff:192.0.2.3")!), ["c.test"])
    }
}
