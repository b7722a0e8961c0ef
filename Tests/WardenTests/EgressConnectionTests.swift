@testable import Egress
import NIOCore
import NIOEmbedded
@testable import Warden
import XCTest

/// The proxy's connection handler driven through an EmbeddedChannel: every refusal
/// that happens before a connection to the world is made (the allowed paths connect
/// for real and are proven by Tests/integration/egress.bats).
final class EgressConnectionTests: XCTestCase {
    var auditPath = ""

    override func setUp() {
        auditPath = "/tmp/egress-audit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl"
    }

    override func tearDown() { unlink(auditPath) }

    func channel(maximumConnections: Int = 8, shared existing: EgressShared? = nil) throws -> (EmbeddedChannel, EgressShared) {
        let shared = try existing ?? EgressShared(
            configuration: EgressProxy.Configuration(
                allowlist: try Allowlist(annotation: "www.test,private.test"),
                hosts: HostsMapping(text: "198.51.100.2 www.test\n10.1.2.3 private.test\n"),
                listener: -1, maximumConnections: maximumConnections),
            audit: EgressAuditLog(path: auditPath))
        let channel = EmbeddedChannel(handler: EgressConnection(shared: shared))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3128)).wait()
        return (channel, shared)
    }

    func send(_ channel: EmbeddedChannel, _ bytes: [UInt8]) throws {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    func answer(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var b = try channel.readOutbound(as: ByteBuffer.self) { text += b.readString(length: b.readableBytes) ?? "" }
        return text
    }

    func auditLines() -> [String] { fileLines(auditPath) }

    func testDeniedHostGets403NamingTheReasonAndOneRecord() throws {
        let (channel, _) = try channel()
        try send(channel, Array("GET http://other.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n".utf8))
        let text = try answer(channel)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 403 safehouse: other.test matches no rule of network.allow\r\n"), text)
        XCTAssertTrue(text.hasSuffix("\r\n\r\nsafehouse egress: other.test matches no rule of network.allow\n"), text)
        XCTAssertFalse(channel.isActive)
        let lines = auditLines()
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix(#"{"decision":"denied","method":"GET","host":"other.test","port":80,"reason":"other.test matches no rule of network.allow""#), lines[0])
    }

    func testNameResolvingToPrivateAddressIsRefused() throws {
        let (channel, _) = try channel()
        try send(channel, Array("CONNECT private.test:443 HTTP/1.1\r\n\r\n".utf8))
        let text = try answer(channel)
        XCTAssertTrue(text.contains("10.1.2.3 (resolved from private.test) is a private address (10.0.0.0/8); rule \"private.test\" does not name it exactly"), text)
    }

    func testHostMismatchAndBadRequests() throws {
        let (a, _) = try channel()
        try send(a, Array("GET http://www.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n".utf8))
        XCTAssertTrue(try answer(a).hasPrefix("HTTP/1.1 403 safehouse: Host \"other.test\" does not match the request target www.test\r\n"))
        let (b, _) = try channel()
        try send(b, Array("GET https://www.test/ HTTP/1.1\r\n\r\n".utf8))
        XCTAssertTrue(try answer(b).hasPrefix("HTTP/1.1 400 safehouse: "))
    }

    func testTunnelWithAnotherServerNameIsCutBeforeConnecting() throws {
        let (channel, _) = try channel()
        // The request head and a ClientHello naming another host in one read.
        try send(channel, Array("CONNECT www.test:443 HTTP/1.1\r\n\r\n".utf8) + Self.clientHello(name: "evil.test"))
        XCTAssertEqual(try answer(channel), "HTTP/1.1 200 Connection established\r\n\r\n")
        XCTAssertFalse(channel.isActive)
        let lines = auditLines()
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].contains(#""reason":"TLS server name evil.test does not match CONNECT host www.test""#), lines[0])
        XCTAssertTrue(lines[0].contains(#""address":"198.51.100.2""#), lines[0])
    }

    func testConnectionLimit() throws {
        let (first, shared) = try channel(maximumConnections: 1)
        let (second, _) = try channel(shared: shared)
        XCTAssertTrue(try answer(second).hasPrefix("HTTP/1.1 503 safehouse: too many connections (limit 1)\r\n"))
        XCTAssertTrue(first.isActive)
        _ = try first.finish()
        XCTAssertEqual(shared.connections, 0)
    }

    static func clientHello(name: String) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
        let entry: [UInt8] = [0] + u16(name.utf8.count) + Array(name.utf8)
        let sni = u16(0) + u16(entry.count + 2) + u16(entry.count) + entry
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 1, count: 32) + [0] + u16(2) + [0x13, 0x01] + [1, 0]
        body += u16(sni.count) + sni
        let handshake: [UInt8] = [1, 0] + u16(body.count) + body
        return [22, 3, 1] + u16(handshake.count) + handshake
    }
}
