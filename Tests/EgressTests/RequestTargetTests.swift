@testable import Egress
import XCTest

/// A captured (or SOCKS) plain HTTP connection is judged by the host its request
/// targets: the absolute target when there is one (a server routes by it, RFC 9112
/// 3.2.2), which then goes upstream in origin form, as the explicit proxy sends it.
final class RequestTargetTests: XCTestCase {
    func sniff(_ s: String) -> ClaimedName.Sniff { ClaimedName.sniff(Array(s.utf8), port: 80) }
    func forward(_ s: String) -> ClaimedName.Forward { ClaimedName.originRequest(Array(s.utf8)) }

    func testAbsoluteTargetIsTheClaimNotTheHostHeader() {
        XCTAssertEqual(sniff("GET http://other.test/x HTTP/1.1\r\nHost: www.test\r\n\r\n"), .claimed("other.test"))
        XCTAssertEqual(sniff("GET HTTP://Other.Test:80/x HTTP/1.1\r\n\r\n"), .claimed("other.test"))
        XCTAssertEqual(sniff("GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: www.test\r\n\r\n"), .claimed("169.254.169.254"))
        XCTAssertEqual(sniff("GET http://[::1]/ HTTP/1.1\r\nHost: www.test\r\n\r\n"), .claimed("[::1]"))
        XCTAssertEqual(sniff("GET http://www.test?q HTTP/1.1\r\nHost: www.test\r\n\r\n"), .claimed("www.test"))
        // Origin form: still its Host.
        XCTAssertEqual(sniff("GET /x HTTP/1.1\r\nHost: www.test\r\n\r\n"), .claimed("www.test"))
    }

    func testTargetsThatNameNoCheckableSiteAreRefused() {
        for (text, reason) in [
            ("GET https://other.test/ HTTP/1.1\r\nHost: www.test\r\n\r\n", "request target \"https://other.test/\": scheme \"https\" is not http"),
            ("GET http://www.test:8080/ HTTP/1.1\r\nHost: www.test\r\n\r\n", "request target \"http://www.test:8080/\" names port 8080, not 80"),
            ("GET http://www.test@other.test/ HTTP/1.1\r\nHost: www.test\r\n\r\n", "bad host in request target \"http://www.test@other.test/\""),
            ("CONNECT other.test:443 HTTP/1.1\r\nHost: www.test\r\n\r\n", "request target \"other.test:443\" is neither /path nor http://host/path"),
            ("OPTIONS * HTTP/1.1\r\nHost: www.test\r\n\r\n", "request target \"*\" is neither /path nor http://host/path"),
            ("GET other.test/x HTTP/1.1\r\nHost: www.test\r\n\r\n", "request target \"other.test/x\" is neither /path nor http://host/path"),
        ] {
            XCTAssertEqual(sniff(text), .refused(reason), text)
            XCTAssertEqual(forward(text), .invalid(reason), text)
        }
    }

    func testAbsoluteTargetGoesUpstreamInOriginForm() {
        let text = "POST http://www.test/a?b HTTP/1.1\r\nHost: www.test\r\nContent-Length: 2\r\nProxy-Authorization: x\r\n\r\nhiGET / HTTP/1.1\r\n"
        guard case .request(let r) = forward(text) else { return XCTFail("\(forward(text))") }
        XCTAssertEqual(String(decoding: r.head, as: UTF8.self),
                       "POST /a?b HTTP/1.1\r\nHost: www.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(r.bodyLength, 2)
        XCTAssertEqual(r.headLength, text.utf8.count - 2 - 16)
        // Without Host: the target's authority becomes it.
        guard case .request(let bare) = forward("GET http://www.test/ HTTP/1.0\r\n\r\n") else { return XCTFail() }
        XCTAssertEqual(String(decoding: bare.head, as: UTF8.self), "GET / HTTP/1.0\r\nHost: www.test\r\nConnection: close\r\n\r\n")
    }

    func testAbsoluteTargetAndHostMustAgree() {
        XCTAssertEqual(forward("GET http://other.test/ HTTP/1.1\r\nHost: www.test\r\n\r\n"),
                       .invalid("Host \"www.test\" does not match the request target other.test"))
        XCTAssertEqual(forward("GET http://169.254.169.254/latest HTTP/1.1\r\nHost: www.test\r\n\r\n"),
                       .invalid("Host \"www.test\" does not match the request target 169.254.169.254"))
    }

    /// Reasons quote the client's text printable and short.
    func testQuotedTargetIsPrintable() {
        guard case .refused(let why) = sniff("GET ftp://a\u{7}b/ HTTP/1.1\r\nHost: www.test\r\n\r\n") else { return XCTFail() }
        XCTAssertEqual(why, "request target \"ftp://a?b/\": scheme \"ftp\" is not http")
    }
}

/// A header name with space before its colon is no header the check read: refused
/// by the proxy and on a captured connection alike.
final class HeaderNameTests: XCTestCase {
    func testAFieldNameIsAToken() {
        for text in ["GET http://www.test/ HTTP/1.1\r\nHost : other.test\r\n\r\n",
                     "GET http://www.test/ HTTP/1.1\r\nHost\t: other.test\r\n\r\n",
                     "GET http://www.test/ HTTP/1.1\r\n: x\r\n\r\n"] {
            XCTAssertEqual(ProxyRequest.parse(Array(text.utf8)), .invalid(status: 400, reason: "bad header name"), text)
        }
        XCTAssertEqual(ClaimedName.originRequest(Array("GET / HTTP/1.0\r\nHost : other.test\r\n\r\n".utf8), defaultAuthority: "198.51.100.2"),
                       .invalid("bad header name"))
        guard case .request = ProxyRequest.parse(Array("GET http://www.test/ HTTP/1.1\r\nX-A_b.c~1: y\r\n\r\n".utf8)) else { return XCTFail() }
    }
}

/// A request head that does not end within the limit is refused: what lies past it
/// (a Host) was never read.
final class OversizedHeadTests: XCTestCase {
    func testAnEndlessHeadIsRefusedNotRelayed() {
        let limit = ClaimedName.maximumLength
        let head = Array("GET / HTTP/1.1\r\nX-Pad: ".utf8) + [UInt8](repeating: 0x61, count: limit) + Array("\r\nHost: other.test\r\n".utf8)
        XCTAssertEqual(ClaimedName.sniff(head, port: 80), .refused("request head larger than \(limit) bytes"))
        let line = Array("GET /".utf8) + [UInt8](repeating: 0x61, count: limit)
        XCTAssertEqual(ClaimedName.sniff(line, port: 80), .refused("request line longer than \(limit) bytes"))
        // Not a request line at all: judged by address, as before.
        XCTAssertEqual(ClaimedName.sniff([UInt8](repeating: 1, count: limit + 10), port: 80), .claimed(nil))
        XCTAssertEqual(ClaimedName.sniff(Array("GET / HTTP/1.1\r\nX: y\r\n".utf8), port: 80), .needMoreBytes)
    }
}
