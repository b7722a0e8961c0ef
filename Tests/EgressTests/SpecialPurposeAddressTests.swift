@testable import Egress
import XCTest

/// The reserved ranges against the IANA special-purpose address registries: every
/// block not globally reachable is closed (documentation prefixes aside, which the
/// integration tests use as their internet), and every IPv6 form that carries an
/// IPv4 address is either judged by it (mapped) or closed whole.
final class SpecialPurposeAddressTests: XCTestCase {
    func kind(_ text: String) -> String? {
        guard let a = IPAddress(text) else { XCTFail("not an address: \(text)"); return nil }
        return AddressPolicy.reservedRange(of: a)?.kind
    }

    func testIPv4Registry() {
        for (a, k) in [
            ("0.1.2.3", "unspecified"), ("10.255.0.1", "private"), ("100.127.255.254", "CGNAT"), ("127.8.8.8", "loopback"),
            ("169.254.3.3", "link-local"), ("172.31.255.255", "private"), ("192.0.0.8", "IETF protocol assignment"),
            ("192.0.0.170", "IETF protocol assignment"), ("192.0.0.9", "IETF protocol assignment"),
            ("192.88.99.1", "6to4 relay anycast"), ("192.168.0.1", "private"), ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"), ("224.0.0.251", "multicast"), ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"), ("255.255.255.254", "reserved"), ("255.255.255.255", "broadcast"),
            ("169.254.169.254", "metadata"), ("100.100.100.200", "metadata"), ("192.0.0.192", "metadata"),
        ] {
            XCTAssertEqual(kind(a), k, a)
        }
        // Just outside the new blocks: ordinary.
        for a in ["192.0.1.1", "198.17.255.255", "198.20.0.0", "192.88.98.255", "100.128.0.0", "8.8.8.8", "1.1.1.1"] {
            XCTAssertNil(kind(a), a)
        }
    }

    func testIPv6Registry() {
        for (a, k) in [
            ("::", "unspecified"), ("::1", "loopback"), ("fd00:ec2::254", "metadata"), ("fc00::1", "private"),
            ("fdff::1", "private"), ("fe80::1", "link-local"), ("febf::1", "link-local"), ("fec0::1", "site-local"),
            ("ff02::1", "multicast"), ("100::1", "discard-only"), ("100:0:0:1::1", "dummy"), ("5f00::1", "SRv6 SID"),
            ("2001::1", "Teredo"), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"), ("2001:2::1", "benchmarking"),
            ("2001:10::1", "ORCHID"), ("2001:1::1", "IETF protocol assignment"), ("2001:1ff::1", "IETF protocol assignment"),
            ("2002:a00:1::1", "6to4"), ("2002:808:808::1", "6to4"),
        ] {
            XCTAssertEqual(kind(a), k, a)
        }
        for a in ["2001:200::1", "2606:2800::1", "2a00:1450::1", "2001:4860:4860::8888"] {
            XCTAssertNil(kind(a), a)
        }
    }

    /// Every IPv6 spelling of a reserved IPv4 address is refused.
    func testIPv4InsideIPv6() {
        XCTAssertEqual(kind("::ffff:127.0.0.1"), "loopback")         // mapped: judged by its IPv4 address
        XCTAssertEqual(kind("::ffff:169.254.169.254"), "metadata")
        XCTAssertEqual(kind("::ffff:198.18.0.1"), "benchmarking")
        XCTAssertEqual(kind("::ffff:192.0.0.1"), "IETF protocol assignment")
        XCTAssertNil(kind("::ffff:8.8.8.8"))                          // a mapped public address is that address
        XCTAssertEqual(kind("::127.0.0.1"), "IPv4-compatible")        // deprecated; never an IPv4 destination
        XCTAssertEqual(kind("::169.254.169.254"), "IPv4-compatible")
        XCTAssertEqual(kind("::8.8.8.8"), "IPv4-compatible")
        XCTAssertEqual(kind("::ffff:0:127.0.0.1"), "IPv4-translated")
        XCTAssertEqual(kind("::ffff:0:8.8.8.8"), "IPv4-translated")
        XCTAssertEqual(kind("64:ff9b::127.0.0.1"), "NAT64")
        XCTAssertEqual(kind("64:ff9b::a9fe:a9fe"), "NAT64")
        XCTAssertEqual(kind("64:ff9b:1::a00:1"), "NAT64")
        XCTAssertEqual(kind("2002:7f00:1::"), "6to4")                 // 127.0.0.1 in 6to4
        XCTAssertEqual(kind("2002:a9fe:a9fe::1"), "6to4")             // 169.254.169.254 in 6to4
    }

    func testRefusalReadsAsASentence() throws {
        let allowlist = try Allowlist(annotation: "www.test")
        let rule = allowlist.rules[0]
        for (a, phrase) in [("::127.0.0.1", "is an IPv4-compatible address (::/96)"), ("0.0.0.1", "is an unspecified address (0.0.0.0/8)"),
                            ("198.18.0.7", "is a benchmarking address (198.18.0.0/15)"),
                            ("192.0.0.1", "is an IETF protocol assignment address (192.0.0.0/24)")] {
            guard case .failure(let denial) = allowlist.check(addresses: [IPAddress(a)!], for: .name("www.test"), rule: rule) else {
                XCTFail("\(a) passed"); continue
            }
            XCTAssertTrue(denial.description.contains(phrase), denial.description)
        }
        // A rule naming the exact address still opens it.
        let exact = try Allowlist(annotation: "198.18.0.7:80")
        XCTAssertNoThrow(try exact.check(addresses: [IPAddress("198.18.0.7")!], for: .address(IPAddress("198.18.0.7")!), rule: exact.rules[0]).get())
    }
}
