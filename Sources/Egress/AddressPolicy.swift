/// The destinations no sandbox reaches unless its policy names the exact address: the
/// host itself, the machine's private networks, the cloud metadata service, and
/// addresses that are not one host.
public enum AddressPolicy {
    /// A reserved range and why it is closed.
    public struct ReservedRange: Sendable {
        public let cidr: CIDR
        public let kind: String

        /// "a private address", "an IPv4-compatible address": for reasons.
        public var phrase: String {
            let article = kind.first.map { "aeiouAEIOU".contains($0) } == true ? "an" : "a"
            return "\(article) \(kind) address"
        }
    }

    static func range(_ text: String, _ kind: String) -> ReservedRange {
        // The table below is literal text checked by the unit tests.
        guard let cidr = CIDR(text) else { preconditionFailure("bad reserved range \(text)") }
        return ReservedRange(cidr: cidr, kind: kind)
    }

    /// Checked in order; the more specific names (metadata) come first. The table follows
    /// the IANA special-purpose address registries (IPv4 and IPv6) and closes every
    /// block they mark as not globally reachable, except the documentation prefixes
    /// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20): they are
    /// routed nowhere, so reaching one means a network set up to stand in for the
    /// internet (the integration tests' own), never a host's private one. IPv6 forms
    /// that carry an IPv4 address are closed whole (NAT64, 6to4, Teredo, IPv4-compatible,
    /// IPv4-translated), except IPv4-mapped, which is judged by its IPv4 address.
    public static let reserved: [ReservedRange] = [
        // Cloud metadata services: AWS, GCP, Azure, OpenStack; Alibaba; Oracle; AWS IPv6.
        range("169.254.169.254/32", "metadata"),
        range("100.100.100.200/32", "metadata"),
        range("192.0.0.192/32", "metadata"),
        range("fd00:ec2::254/128", "metadata"),
        range("0.0.0.0/8", "unspecified"),
        range("::/128", "unspecified"),
        range("127.0.0.0/8", "loopback"),
        range("::1/128", "loopback"),
        range("10.0.0.0/8", "private"),
        range("172.16.0.0/12", "private"),
        range("192.168.0.0/16", "private"),
        range("fc00::/7", "private"),
        range("100.64.0.0/10", "CGNAT"),
        range("169.254.0.0/16", "link-local"),
        range("fe80::/10", "link-local"),
        range("fec0::/10", "site-local"),
        // DS-Lite, NAT64 discovery, PCP and TURN anycast: none is a server on the internet.
        range("192.0.0.0/24", "IETF protocol assignment"),
        range("192.88.99.0/24", "6to4 relay anycast"),
        range("198.18.0.0/15", "benchmarking"),
        range("2001:2::/48", "benchmarking"),
        range("224.0.0.0/4", "multicast"),
        range("ff00::/8", "multicast"),
        range("255.255.255.255/32", "broadcast"),
        range("240.0.0.0/4", "reserved"),
        range("100::/64", "discard-only"),
        range("100:0:0:1::/64", "dummy"),
        range("5f00::/16", "SRv6 SID"),
        // IPv6 addresses that embed an IPv4 one would smuggle the ranges above.
        range("::ffff:0:0:0/96", "IPv4-translated"),
        range("::/96", "IPv4-compatible"),
        range("64:ff9b::/96", "NAT64"),
        range("64:ff9b:1::/48", "NAT64"),
        range("2002::/16", "6to4"),
        range("2001::/32", "Teredo"),
        range("2001:10::/28", "ORCHID"),
        // The rest of the block IANA keeps for protocols (anycast services, AMT, ORCHIDv2).
        range("2001::/23", "IETF protocol assignment"),
    ]

    /// The reserved range `address` falls in, or nil for an ordinary public address.
    /// IPv4-mapped IPv6 addresses are judged by their IPv4 address.
    public static func reservedRange(of address: IPAddress) -> ReservedRange? {
        let a = address.unmappedV4 ?? address
        return reserved.first { $0.cidr.contains(a) }
    }
}
