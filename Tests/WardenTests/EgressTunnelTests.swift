@testable import Egress
import NIOCore
import NIOEmbedded
@testable import Warden
import XCTest

/// The SOCKS5 side of EgressTunnel and the resolver (EgressDNS), driven through
/// embedded channels: the refusals, which happen before any connection to the world.
/// (The allowed paths, and captured connections, which need conntrack, are proven by
/// Tests/integration/egress.bats.)
final class EgressTunnelTests: XCTestCase {
    var auditPath = ""

    override func setUp() { auditPath = "/tmp/egress-tunnel-audit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl" }
    override func tearDown() { unlink(auditPath) }

    func shared() throws -> EgressShared {
        try EgressShared(
            configuration: EgressProxy.Configuration(
                allowlist: try Allowlist(annotation: "www.test,ssh.test:22,private.test"),
                hosts: HostsMapping(text: "198.51.100.2 www.test ssh.test\n10.1.2.3 private.test\n2001:db8::2 www.test\n"),
                listener: nil),
            audit: EgressAuditLog(path: auditPath))
    }

    func auditLines() -> [String] { fileLines(auditPath) }

    func socks(_ shared: EgressShared) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: EgressTunnel(shared: shared, kind: .socks))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1080)).wait()
        return channel
    }

    func output(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var out: [UInt8] = []
        while var b = try channel.readOutbound(as: ByteBuffer.self) { out += b.readBytes(length: b.readableBytes) ?? [] }
        return out
    }

    func testSocksRefusesAPortTheRuleDoesNotAllow() throws {
        let channel = try socks(try shared())
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0]))
        XCTAssertEqual(try output(channel), [5, 0])
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0, 3, 8] + Array("ssh.test".utf8) + [0x08, 0xAE]))  // port 2222
        XCTAssertEqual(try output(channel), Socks5.reply(.notAllowed))
        XCTAssertFalse(channel.isActive)
        let lines = auditLines()
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix(#"{"decision":"denied","method":"SOCKS5","host":"ssh.test","port":2222,"reason":"ssh.test port 2222 is not allowed: rule \"ssh.test:22\" allows ports 22""#), lines[0])
    }

    func testSocksRefusesPrivateAddressesAndOtherCommands() throws {
        let s = try shared()
        let a = try socks(s)
        try a.writeInbound(ByteBuffer(bytes: [5, 1, 0] + [5, 1, 0, 3, 12] + Array("private.test".utf8) + [1, 187]))
        XCTAssertEqual(try output(a), [5, 0] + Socks5.reply(.notAllowed))
        let b = try socks(s)
        try b.writeInbound(ByteBuffer(bytes: [5, 1, 0] + [5, 3, 0, 1, 198, 51, 100, 2, 0, 53]))  // UDP ASSOCIATE
        XCTAssertEqual(try output(b), [5, 0] + Socks5.reply(.commandNotSupported))
        let c = try socks(s)
        try c.writeInbound(ByteBuffer(bytes: [5, 1, 2]))  // only username/password offered
        XCTAssertEqual(try output(c), [5, 0xFF])
        XCTAssertFalse(c.isActive)
        let lines = auditLines()
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].contains(#""reason":"10.1.2.3 (resolved from private.test) is a private address (10.0.0.0/8); rule \"private.test\" does not name it exactly""#), lines[0])
        XCTAssertTrue(lines[1].contains(#""reason":"SOCKS command 3 is not supported (CONNECT only)""#), lines[1])
        XCTAssertTrue(lines[2].contains(#""reason":"the client offers no SOCKS method without authentication""#), lines[2])
    }

    func testACapturedConnectionWithoutAnOriginalDestinationIsRefused() throws {
        // An embedded channel has no socket to read SO_ORIGINAL_DST from: what the
        // warden does with an accepted connection conntrack knows nothing of.
        let channel = EmbeddedChannel(handler: EgressTunnel(shared: try shared(), kind: .captured))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 15001)).wait()
        XCTAssertFalse(channel.isActive)
        let lines = auditLines()
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix(#"{"decision":"denied","method":"TCP","host":"","port":0,"reason":"cannot read the original destination""#), lines[0])
    }

    func testTheResolverAnswersRemembersAndRefuses() throws {
        let s = try shared()
        let channel = EmbeddedChannel(handler: EgressDNS(shared: s))
        let client = try SocketAddress(ipAddress: "::1", port: 5353)
        func ask(_ name: String, _ type: UInt16) throws -> [UInt8] {
            try channel.writeInbound(AddressedEnvelope(remoteAddress: client, data: ByteBuffer(bytes: DNSMessage.query(id: 77, name: name, type: type))))
            var reply = try XCTUnwrap(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))
            XCTAssertEqual(reply.remoteAddress, client)
            return reply.data.readBytes(length: reply.data.readableBytes) ?? []
        }
        let a = try ask("www.test", 1)
        XCTAssertEqual(a[3] & 0xF, 0)
        XCTAssertEqual(Array(a.suffix(4)), [198, 51, 100, 2])
        XCTAssertEqual(s.book.names(of: IPAddress("198.51.100.2")!), ["www.test"])
        XCTAssertEqual(Array(try ask("www.test", 28).suffix(16)), IPAddress("2001:db8::2")!.bytes)
        XCTAssertEqual(try ask("other.test", 1)[3] & 0xF, 3)      // NXDOMAIN
        XCTAssertEqual(try ask("www.test", 16)[3] & 0xF, 5)       // TXT: REFUSED
        XCTAssertEqual(try ask("private.test", 1)[3] & 0xF, 5)    // resolves to a private address
        XCTAssertEqual(s.dnsSuspicious, 2)
        XCTAssertNil(s.book.names(of: IPAddress("10.1.2.3")!).first)
        let lines = auditLines()
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].hasPrefix(#"{"decision":"allowed","method":"DNS","host":"www.test","port":53,"address":"198.51.100.2","rule":"www.test""#), lines[0])
        XCTAssertTrue(lines[2].contains(#""reason":"other.test matches no rule of network.allow""#), lines[2])
        XCTAssertTrue(lines[3].contains(#""reason":"TXT queries are refused (www.test)""#), lines[3])
    }
}
