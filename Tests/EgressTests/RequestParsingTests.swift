@testable import Egress
import XCTest

final class RequestParsingTests: XCTestCase {
    func parse(_ s: String) -> ProxyRequest.Parse { ProxyRequest.parse(Array(s.utf8)) }

    func testConnect() {
        guard case .request(let r) = parse("CONNECT www.test:443 HTTP/1.1\r\nHost: www.test:443\r\n\r\n\u{16}") else { return XCTFail() }
        XCTAssertEqual(r.kind, .connect)
        XCTAssertEqual(r.host, "www.test")
        XCTAssertEqual(r.port, 443)
        XCTAssertEqual(r.headLength, 53)
        guard case .request(let v6) = parse("CONNECT [::1]:443 HTTP/1.1\r\n\r\n") else { return XCTFail() }
        XCTAssertEqual(v6.host, "[::1]")
        XCTAssertEqual(parse("CONNECT www.test HTTP/1.1\r\n\r\n"), .invalid(status: 400, reason: "CONNECT target \"www.test\" is not host:port"))
        XCTAssertEqual(parse("CONNECT www.test:443 HTTP/1.1\r\n"), .needMoreBytes)
    }

    func testForwardRewritesTheHead() {
        let text = "GET http://www.test:8080/a?b=1 HTTP/1.1\r\nHost: www.test:8080\r\nProxy-Authorization: x\r\nConnection: keep-alive\r\nUser-Agent: wget\r\n\r\n"
        guard case .request(let r) = parse(text), case .forward(let head, let body) = r.kind else { return XCTFail() }
        XCTAssertEqual(body, 0)
        XCTAssertEqual(r.host, "www.test")
        XCTAssertEqual(r.port, 8080)
        XCTAssertEqual(String(decoding: head, as: UTF8.self),
                       "GET /a?b=1 HTTP/1.1\r\nHost: www.test:8080\r\nUser-Agent: wget\r\nConnection: close\r\n\r\n")
        guard case .request(let noHost) = parse("GET http://www.test HTTP/1.0\r\n\r\n"), case .forward(let h2, _) = noHost.kind else { return XCTFail() }
        XCTAssertEqual(noHost.port, 80)
        XCTAssertEqual(String(decoding: h2, as: UTF8.self), "GET / HTTP/1.0\r\nHost: www.test\r\nConnection: close\r\n\r\n")
    }

    func testBodies() {
        guard case .request(let r) = parse("POST http://www.test/ HTTP/1.1\r\nContent-Length: 12\r\n\r\n"),
              case .forward(_, let body) = r.kind else { return XCTFail() }
        XCTAssertEqual(body, 12)
        XCTAssertEqual(parse("POST http://www.test/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                       .invalid(status: 411, reason: "a request body needs Content-Length (Transfer-Encoding is not relayed)"))
        XCTAssertEqual(parse("POST http://www.test/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
                       .invalid(status: 400, reason: "conflicting Content-Length headers"))
        XCTAssertEqual(parse("POST http://www.test/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
                       .invalid(status: 400, reason: "bad Content-Length \"-1\""))
    }

    func testHostMustMatchTarget() {
        XCTAssertEqual(parse("GET http://www.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n"),
                       .invalid(status: 403, reason: "Host \"evil.test\" does not match the request target www.test"))
        XCTAssertEqual(parse("GET http://www.test/ HTTP/1.1\r\nHost: www.test:81\r\n\r\n"),
                       .invalid(status: 403, reason: "Host \"www.test:81\" does not match the request target www.test"))
        if case .request = parse("GET http://www.test/ HTTP/1.1\r\nHost: WWW.test:80\r\n\r\n") {} else { XCTFail() }
        XCTAssertEqual(parse("GET http://www.test/ HTTP/1.1\r\nHost: www.test\r\nHost: evil.test\r\n\r\n"),
                       .invalid(status: 400, reason: "more than one Host header"))
        XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: www.test\r\n\r\n"),
                       .invalid(status: 400, reason: "a proxy request needs an absolute http:// target"))
        XCTAssertEqual(parse("GET http://user@www.test/ HTTP/1.1\r\n\r\n"), .invalid(status: 400, reason: "bad host in \"http://user@www.test/\""))
    }

    /// A ClientHello as TLS libraries send it, with the given server names.
    static func clientHello(names: [String]) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
        var list: [UInt8] = []
        for n in names { list += [0] + u16(n.utf8.count) + Array(n.utf8) }
        let sni = u16(0) + u16(list.count + 2) + u16(list.count) + list
        let other = u16(43) + u16(3) + [2, 3, 4]  // supported_versions
        let extensions = other + (names.isEmpty ? [] : sni)
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [0] + u16(2) + [0x13, 0x01] + [1, 0]
        body += u16(extensions.count) + extensions
        let handshake: [UInt8] = [1, 0] + u16(body.count) + body
        return [22, 3, 1] + u16(handshake.count) + handshake
    }

    func testServerName() {
        let hello = Self.clientHello(names: ["WWW.test"])
        XCTAssertEqual(ClientHello.parse(hello), .serverName("www.test"))
        XCTAssertEqual(ClientHello.parse(Array(hello.prefix(20))), .needMoreBytes)
        XCTAssertEqual(ClientHello.parse(Self.clientHello(names: [])), .serverName(nil))
        XCTAssertEqual(ClientHello.parse(Self.clientHello(names: ["a.test", "b.test"])), .notTLS("more than one server name"))
        XCTAssertEqual(ClientHello.parse(Array("GET / HTTP/1.1\r\n".utf8)), .notTLS("first record is not a handshake (type 71)"))
    }
}
