@testable import Egress
import NIOCore
import NIOEmbedded
@testable import Warden
import XCTest

/// What a refused client is told, and the tunnels refused for naming no server.
final class EgressRefusalTests: XCTestCase {
    var auditPath = ""

    override func setUp() { auditPath = "/tmp/egress-refusal-audit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl" }
    override func tearDown() { unlink(auditPath) }

    func shared() throws -> EgressShared {
        try EgressShared(
            configuration: EgressProxy.Configuration(
                allowlist: try Allowlist(annotation: "www.test"),
                hosts: HostsMapping(text: "198.51.100.2 www.test\n"), listener: -1),
            audit: EgressAuditLog(path: auditPath))
    }

    func proxy(_ shared: EgressShared) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: EgressConnection(shared: shared))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3128)).wait()
        return channel
    }

    func output(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var out: [UInt8] = []
        while var b = try channel.readOutbound(as: ByteBuffer.self) { out += b.readBytes(length: b.readableBytes) ?? [] }
        return out
    }

    func statusLine(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.range(of: "\r\n").map { String(text[..<$0.lowerBound]) } ?? text
    }

    /// The reason is in the status line, which pip, requests and curl print for a
    /// failed CONNECT (they never show the body).
    func testTheReasonIsTheReasonPhrase() throws {
        let s = try shared()
        let a = try proxy(s)
        try a.writeInbound(ByteBuffer(string: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"))
        let answer = try output(a)
        XCTAssertEqual(statusLine(answer), "HTTP/1.1 403 safehouse: example.com matches no rule of network.allow")
        XCTAssertTrue(String(decoding: answer, as: UTF8.self).hasSuffix("\r\n\r\nsafehouse egress: example.com matches no rule of network.allow\n"))
        let b = try proxy(s)
        try b.writeInbound(ByteBuffer(string: "GET http://www.test:22/ HTTP/1.1\r\n\r\n"))
        XCTAssertEqual(statusLine(try output(b)),
                       #"HTTP/1.1 403 safehouse: www.test port 22 is not allowed: rule "www.test" allows ports 80,443"#)
        let c = try proxy(s)
        try c.writeInbound(ByteBuffer(string: "GET https://www.test/ HTTP/1.1\r\n\r\n"))
        XCTAssertEqual(statusLine(try output(c)), "HTTP/1.1 400 safehouse: https:// targets go through CONNECT")
    }

    /// Client bytes inside a reason (a Host value with a bare LF, a control byte,
    /// non-ASCII) cannot end the status line or forge a header.
    func testTheReasonPhraseCarriesNoLineBreakOrControl() throws {
        let s = try shared()
        let a = try proxy(s)
        try a.writeInbound(ByteBuffer(bytes: Array("GET http://www.test/ HTTP/1.1\r\nHost: a\nX-Forged: 1\u{1}\u{7f}é\r\n\r\n".utf8)))
        let answer = try output(a)
        let line = statusLine(answer)
        XCTAssertEqual(line, "HTTP/1.1 403 safehouse: Host \"a?X-Forged: 1???\" does not match the request target www.test")
        XCTAssertFalse(String(decoding: answer, as: UTF8.self).contains("\nX-Forged"))
        // The audit record keeps the reason as it was.
        XCTAssertTrue(fileLines(auditPath)[0].contains(#"Host \"a\nX-Forged: 1"#), fileLines(auditPath)[0])
    }

    func testAReasonPhraseIsPrintableAndBounded() {
        XCTAssertEqual(EgressRefusal.reasonPhrase("a\tb\r\nc\u{0}d\u{7f}ü"), "a b??c?d??")
        let long = EgressRefusal.reasonPhrase(String(repeating: "x", count: 1000))
        XCTAssertEqual(long, String(repeating: "x", count: EgressRefusal.maximumPhraseLength) + "...")
        XCTAssertEqual(EgressRefusal.statusLine(status: 502, reason: "no\r\nway"), "HTTP/1.1 502 safehouse: no??way\r\n")
    }

    /// A ClientHello without a server name leaves the site to the server: a tunnel to
    /// a name is cut before a byte reaches it.
    func testAConnectTunnelWithoutServerNameIsCut() throws {
        let channel = try proxy(try shared())
        try channel.writeInbound(ByteBuffer(bytes: Array("CONNECT www.test:443 HTTP/1.1\r\n\r\n".utf8) + Self.clientHelloWithoutServerName()))
        XCTAssertEqual(String(decoding: try output(channel), as: UTF8.self), "HTTP/1.1 200 Connection established\r\n\r\n")
        XCTAssertFalse(channel.isActive)
        let lines = fileLines(auditPath)
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].contains(#""decision":"denied""#), lines[0])
        XCTAssertTrue(lines[0].contains(#""reason":"TLS ClientHello names no server (SNI); a tunnel to www.test must name it""#), lines[0])
    }

    func testASocksTunnelToANameWithoutServerNameIsRefused() throws {
        let channel = EmbeddedChannel(handler: EgressTunnel(shared: try shared(), kind: .socks))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1080)).wait()
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0] + [5, 1, 0, 3, 8] + Array("www.test".utf8) + [1, 187]))
        XCTAssertEqual(try output(channel), [5, 0] + Socks5.reply(.succeeded))
        try channel.writeInbound(ByteBuffer(bytes: Self.clientHelloWithoutServerName()))
        XCTAssertFalse(channel.isActive)
        let lines = fileLines(auditPath)
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].contains(#""reason":"TLS ClientHello names no server (SNI); a tunnel to www.test must name it""#), lines[0])
    }

    /// A TLS 1.3 ClientHello with extensions, none of them server_name.
    static func clientHelloWithoutServerName() -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
        let extensions = u16(43) + u16(3) + [2, 3, 4]
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 9, count: 32) + [0] + u16(2) + [0x13, 0x01] + [1, 0]
        body += u16(extensions.count) + extensions
        let handshake: [UInt8] = [1, 0] + u16(body.count) + body
        return [22, 3, 1] + u16(handshake.count) + handshake
    }
}
