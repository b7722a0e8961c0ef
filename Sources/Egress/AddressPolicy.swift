/// The destinations no sandbox reaches unless its policy names the exact address: the
/// host itself, the machine's private networks, the cloud metadata service, and
/// addresses that are not one host.
public enum AddressPolicy {
    /// A reserved range and why it is closed.
    public struct ReservedRange: Sendable {
        public let cidr: CIDR
        public let kind: String
    }

    static func range(_ text: String, _ kind: String) -> ReservedRange {
        // The table below is literal text checked by the unit tests.
        guard let cidr = CIDR(text) else { preconditionFailure("bad reserved range \(text)") }
        return ReservedRange(cidr: cidr, kind: kind)
    }

    /// Checked in order; the more specific names (metadata) come first.
    public static let reserved: [ReservedRange] = [
        range("169.254.169.254/32", "metadata"),
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
        range("224.0.0.0/4", "multicast"),
        range("ff00::/8", "multicast"),
        range("255.255.255.255/32", "broadcast"),
        range("240.0.0.0/4", "reserved"),
        // NAT64 and 6to4 embed IPv4 addresses; they would smuggle the ranges above.
        range("64:ff9b::/96", "NAT64"),
        range("2002::/16", "6to4"),
    ]

    /// The reserved range `address` falls in, or nil for an ordinary public address.
    /// IPv4-mapped IPv6 addresses are judged by their IPv4 address.
    public static func reservedRange(of address: IPAddress) -> ReservedRange? {
        let a = address.unmappedV4 ?? address
        return reserved.first { $0.cidr.contains(a) }
    }
}
