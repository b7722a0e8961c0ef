@testable import Egress
import XCTest

final class AllowlistTests: XCTestCase {
    func list(_ entries: String...) throws -> Allowlist { Allowlist(rules: try entries.map(AllowRule.init)) }
    func ip(_ s: String) -> IPAddress { IPAddress(s)! }
    func admitted(_ l: Allowlist, _ host: String, _ port: UInt16) -> Bool {
        guard let d = Allowlist.Destination(host: host) else { return false }
        if case .allowed = l.admit(d, port: port) { return true }
        return false
    }

    func testAddressesParse() {
        XCTAssertEqual(IPAddress("192.0.2.1")?.bytes, [192, 0, 2, 1])
        XCTAssertNil(IPAddress("192.0.2"))
        XCTAssertNil(IPAddress("0177.0.0.1"))  // octal form refused
        XCTAssertNil(IPAddress("256.0.0.1"))
        XCTAssertEqual(IPAddress("::1")?.description, "::1")
        XCTAssertEqual(IPAddress("[2001:db8::1]")?.description, "2001:db8::1")
        XCTAssertEqual(IPAddress("::ffff:10.0.0.1")?.unmappedV4, IPAddress("10.0.0.1"))
        XCTAssertEqual(IPAddress("fd00:ec2::254")?.description, "fd00:ec2::254")
        XCTAssertNil(IPAddress("1::2::3"))
        XCTAssertNil(IPAddress("fe80::1%eth0"))
        XCTAssertTrue(CIDR("10.0.0.0/8")!.contains(ip("10.255.0.1")))
        XCTAssertFalse(CIDR("172.16.0.0/12")!.contains(ip("172.32.0.1")))
        XCTAssertNil(CIDR("10.0.0.0/33"))
    }

    func testReservedRanges() {
        for (a, kind) in [("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("172.20.0.1", "private"),
                          ("192.168.1.1", "private"), ("fd12::1", "private"), ("100.64.0.1", "CGNAT"),
                          ("169.254.1.1", "link-local"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
                          ("ff02::1", "multicast"), ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"),
                          ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("::ffff:127.0.0.1", "loopback"),
                          ("64:ff9b::a00:1", "NAT64")] {
            XCTAssertEqual(AddressPolicy.reservedRange(of: ip(a))?.kind, kind, a)
        }
        XCTAssertNil(AddressPolicy.reservedRange(of: ip("93.184.216.34")))
        XCTAssertNil(AddressPolicy.reservedRange(of: ip("2606:2800::1")))
    }

    func testRulesParse() throws {
        XCTAssertEqual(try AllowRule("example.com").target, .host("example.com"))
        XCTAssertEqual(try AllowRule("*.Example.com").target, .subdomains(of: "example.com"))
        XCTAssertEqual(try AllowRule("example.com:8443").ports, PortSet(ranges: [8443...8443]))
        XCTAssertEqual(try AllowRule("example.com:8000-8999").ports, PortSet(ranges: [8000...8999]))
        XCTAssertEqual(try AllowRule("example.com").ports, .default)
        XCTAssertEqual(try AllowRule("203.0.113.0/24").target, .network(CIDR("203.0.113.0/24")!))
        XCTAssertEqual(try AllowRule("[2001:db8::1]:443").target, .network(CIDR("2001:db8::1")!))
        XCTAssertEqual(try AllowRule("fd00::/8").target, .network(CIDR("fd00::/8")!))
        for bad in ["", "exa mple.com", "example.com:0", "example.com:70000", "example.com:9-1", "*.", "a.*.com",
                    "http://example.com", "1.2.3", "[::1", "example.com:x"] {
            XCTAssertThrowsError(try AllowRule(bad), bad)
        }
    }

    func testHostsAndDomains() throws {
        let l = try list("example.com", "*.pypi.org", "api.test:8000-8010", "203.0.113.0/24")
        XCTAssertTrue(admitted(l, "example.com", 443))
        XCTAssertTrue(admitted(l, "EXAMPLE.com.", 80))
        XCTAssertFalse(admitted(l, "example.com", 22))
        XCTAssertFalse(admitted(l, "www.example.com", 443))   // exact host only
        XCTAssertTrue(admitted(l, "files.pypi.org", 443))
        XCTAssertTrue(admitted(l, "a.b.pypi.org", 443))
        XCTAssertFalse(admitted(l, "pypi.org", 443))          // subdomains only
        XCTAssertFalse(admitted(l, "evilpypi.org", 443))
        XCTAssertTrue(admitted(l, "api.test", 8005))
        XCTAssertFalse(admitted(l, "api.test", 443))          // a port replaces the defaults
        XCTAssertTrue(admitted(l, "203.0.113.9", 443))
        XCTAssertFalse(admitted(l, "198.51.100.1", 443))
        XCTAssertNil(Allowlist.Destination(host: "2130706433"))
        XCTAssertNil(Allowlist.Destination(host: "0x7f.1"))
        guard case .denied(let why) = l.admit(.name("example.com"), port: 22) else { return XCTFail() }
        XCTAssertEqual(why, "example.com port 22 is not allowed: rule \"example.com\" allows ports 80,443")
        guard case .denied(let why2) = l.admit(.name("other.test"), port: 443) else { return XCTFail() }
        XCTAssertEqual(why2, "other.test matches no rule of network.allow")
    }

    func testEveryResolvedAddressIsChecked() throws {
        let l = try list("example.com", "internal.test", "10.9.9.9", "10.0.0.0/8", "169.254.169.254:80")
        let rule = l.rules[0]
        XCTAssertEqual(try l.check(addresses: [ip("93.184.216.34")], for: .name("example.com"), rule: rule).get(), [ip("93.184.216.34")])
        // One private address among public ones refuses the name.
        guard case .failure(let e) = l.check(addresses: [ip("93.184.216.34"), ip("192.168.1.1")], for: .name("example.com"), rule: rule)
        else { return XCTFail() }
        XCTAssertEqual(e.description, "192.168.1.1 (resolved from example.com) is a private address (192.168.0.0/16); rule \"example.com\" does not name it exactly")
        // A name resolving to an exactly named address passes; a prefix never opens one.
        XCTAssertNoThrow(try l.check(addresses: [ip("10.9.9.9")], for: .name("internal.test"), rule: l.rules[1]).get())
        XCTAssertThrowsError(try l.check(addresses: [ip("10.1.1.1")], for: .address(ip("10.1.1.1")), rule: l.rules[3]).get())
        // Metadata only when named exactly, and then on its port.
        XCTAssertNoThrow(try l.check(addresses: [ip("169.254.169.254")], for: .address(ip("169.254.169.254")), rule: l.rules[4]).get())
        XCTAssertFalse(admitted(l, "169.254.169.254", 443))
        XCTAssertThrowsError(try l.check(addresses: [], for: .name("example.com"), rule: rule).get())
        // IPv4-mapped IPv6 is judged as IPv4.
        XCTAssertThrowsError(try l.check(addresses: [ip("::ffff:127.0.0.1")], for: .name("example.com"), rule: rule).get())
        let none = try list("example.com")
        for a in ["127.0.0.1", "::1", "169.254.169.254", "fd00:ec2::254", "0.0.0.0", "100.100.1.1", "fe80::1", "224.0.0.1"] {
            XCTAssertThrowsError(try none.check(addresses: [ip(a)], for: .name("example.com"), rule: none.rules[0]).get(), a)
        }
    }

    func testAnnotationAndHosts() throws {
        let l = try Allowlist(annotation: "a.test, *.b.test,c.test:81")
        XCTAssertEqual(l.rules.map(\.text), ["a.test", "*.b.test", "c.test:81"])
        XCTAssertThrowsError(try Allowlist(annotation: "a.test,bad host"))
        let h = HostsMapping(text: "# world\n10.200.1.2 www.test WWW2.test\n fd00::2 www.test # v6\nbogus line\n")
        XCTAssertEqual(h.lookup("www.test"), [ip("10.200.1.2"), ip("fd00::2")])
        XCTAssertEqual(h.lookup("www2.test"), [ip("10.200.1.2")])
        XCTAssertNil(h.lookup("bogus"))
    }
}
