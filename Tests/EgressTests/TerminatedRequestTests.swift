@testable import Egress
import XCTest

/// A request read inside TLS the proxy terminated: judged as a plain one, and its
/// Host must be the server name the client's TLS asked for.
final class TerminatedRequestTests: XCTestCase {
    func parse(_ text: String, _ name: String = "api.test") -> TerminatedRequest.Parse {
        TerminatedRequest.parse(Array(text.utf8), serverName: name)
    }

    func testARequestForTheServerNameGoesOnInOriginFormWithConnectionClose() {
        let bytes = "POST /v1/x?q=1 HTTP/1.1\r\nHost: api.test\r\nContent-Length: 3\r\nConnection: keep-alive\r\nProxy-Authorization: x\r\n\r\nabcGET"
        guard case .request(let head, let bodyLength, let headLength) = parse(bytes) else { return XCTFail("\(parse(bytes))") }
        XCTAssertEqual(String(decoding: head, as: UTF8.self),
                       "POST /v1/x?q=1 HTTP/1.1\r\nHost: api.test\r\nContent-Length: 3\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(bodyLength, 3)
        XCTAssertEqual(headLength, bytes.utf8.count - 6)
    }

    func testAHostWithAPortIsTheSameServer() {
        guard case .request = parse("GET / HTTP/1.1\r\nHost: API.test:8443\r\n\r\n") else { return XCTFail() }
    }

    func testAnotherHostIsMisdirected() {
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: other.test\r\n\r\n"),
                       .invalid(status: 421, reason: "Host \"other.test\" is not api.test, the server this connection was made for"))
    }

    func testNoHostTwoHostsAndNonPathTargetsAreRefused() {
        XCTAssertEqual(parse("GET / HTTP/1.1\r\n\r\n"), .invalid(status: 400, reason: "the request needs one Host header"))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: api.test\r\nHost: api.test\r\n\r\n"),
                       .invalid(status: 400, reason: "the request needs one Host header"))
        XCTAssertEqual(parse("GET https://other.test/ HTTP/1.1\r\nHost: api.test\r\n\r\n"),
                       .invalid(status: 400, reason: "the request target is not a path"))
        XCTAssertEqual(parse("CONNECT other.test:443 HTTP/1.1\r\nHost: api.test\r\n\r\n"),
                       .invalid(status: 400, reason: "the request target is not a path"))
        XCTAssertEqual(parse("\u{16}\u{03}\u{01} junk\r\n\r\n"), .invalid(status: 400, reason: "bad request line"))
    }

    func testAChunkedBodyIsRefusedAsThroughTheProxy() {
        XCTAssertEqual(parse("POST / HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n"),
                       .invalid(status: 411, reason: "a request body needs Content-Length (Transfer-Encoding is not relayed)"))
    }

    func testAnIncompleteHeadWaitsAndAnOversizedOneIsRefused() {
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: api.test\r\n"), .needMoreBytes)
        XCTAssertEqual(parse("GET /" + String(repeating: "a", count: ProxyRequest.maximumHeadLength) + " HTTP/1.1\r\n"),
                       .invalid(status: 431, reason: "request head too large"))
    }
}
