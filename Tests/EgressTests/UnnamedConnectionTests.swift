@testable import Egress
import XCTest

/// A captured connection on a port whose protocol names its host (TLS on 443, HTTP
/// on 80) that names none: the server picks the site, so the names the sandbox's DNS
/// gave the address out for do not admit it; an address rule does. And a plain HTTP
/// request without Host still goes upstream as one bounded request.
final class UnnamedConnectionTests: XCTestCase {
    let allowlist = try! Allowlist(annotation: "www.test,203.0.113.0/24")

    func decide(_ address: String, _ port: UInt16, unnamed: String?, book: AddressBook) -> Result<CapturedConnection.Admitted, EgressDenial> {
        CapturedConnection.decide(OriginalDestination(address: IPAddress(address)!, port: port), claimed: nil, unnamed: unnamed,
                                  allowlist: allowlist, book: book, resolve: { _ in [] })
    }

    func testANameTheDNSGaveOutDoesNotAdmitAnUnnamedConnection() throws {
        var book = AddressBook()
        book.remember([IPAddress("198.51.100.2")!, IPAddress("203.0.113.9")!], for: "www.test")
        // Named connections and other ports: the DNS's names admit the address, as before.
        XCTAssertEqual(try decide("198.51.100.2", 443, unnamed: nil, book: book).get().destination, .name("www.test"))
        guard case .failure(let denial) = decide("198.51.100.2", 443, unnamed: "the TLS ClientHello names no server (SNI)", book: book) else {
            return XCTFail("admitted")
        }
        XCTAssertEqual(denial.description,
                       "the TLS ClientHello names no server (SNI); 198.51.100.2 is allowed only by name (www.test), which it must send")
        guard case .failure(let http) = decide("198.51.100.2", 80, unnamed: "the HTTP request names no Host", book: book) else {
            return XCTFail("admitted")
        }
        XCTAssertTrue(http.description.hasPrefix("the HTTP request names no Host; "), http.description)
        // An address rule admits the address itself, name or none.
        XCTAssertEqual(try decide("203.0.113.9", 443, unnamed: "the TLS ClientHello names no server (SNI)", book: book).get().destination,
                       .address(IPAddress("203.0.113.9")!))
        // Not in the book at all: the address rule's ordinary refusal.
        guard case .failure(let none) = decide("198.51.100.7", 443, unnamed: "the TLS ClientHello names no server (SNI)", book: book) else {
            return XCTFail("admitted")
        }
        XCTAssertEqual(none.description, "198.51.100.7 matches no rule of network.allow")
    }

    func testARequestWithoutHostGoesUpstreamAsOneRequestNamingTheDestination() {
        let text = "GET /a HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n"
        guard case .request(let r) = ClaimedName.originRequest(Array(text.utf8), defaultAuthority: "198.51.100.2") else {
            return XCTFail("\(ClaimedName.originRequest(Array(text.utf8), defaultAuthority: "198.51.100.2"))")
        }
        XCTAssertEqual(String(decoding: r.head, as: UTF8.self), "GET /a HTTP/1.0\r\nHost: 198.51.100.2\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(r.headLength, 19)
        XCTAssertEqual(r.bodyLength, 0)
        // A Host that is no authority is refused, not replaced.
        XCTAssertEqual(ClaimedName.originRequest(Array("GET / HTTP/1.1\r\nHost: a b:c\r\n\r\n".utf8), defaultAuthority: "198.51.100.2"),
                       .invalid("Host \"a b:c\" is not a host[:port]"))
        // Without a default the request is left as it was (nothing to name it by).
        XCTAssertEqual(ClaimedName.originRequest(Array("GET / HTTP/1.0\r\n\r\n".utf8)), .notHTTP)
    }
}
