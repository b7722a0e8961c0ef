/// Where a captured connection was going before the sandbox's netfilter rule
/// redirected it to the warden: the `sockaddr_in` or `sockaddr_in6` that
/// getsockopt(SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST) returns from conntrack. Decoded
/// here, as bytes, so the rules are tested without a kernel.
public struct OriginalDestination: Equatable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `SO_ORIGINAL_DST` on `SOL_IP` (linux/netfilter_ipv4.h) and
    /// `IP6T_SO_ORIGINAL_DST` on `SOL_IPV6` (linux/netfilter_ipv6/ip6_tables.h): both 80.
    public static let socketOption: Int32 = 80

    /// Decodes a socket address as the kernel laid it out: family in host byte order
    /// (2 = AF_INET, 10 = AF_INET6 on Linux), then the port in network byte order, then
    /// the address (IPv6: after 4 bytes of flow information).
    public init?(sockaddr bytes: [UInt8]) {
        guard bytes.count >= 8 else { return nil }
        let family = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        let port = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        switch family {
        case 2:
            guard let a = IPAddress(bytes: Array(bytes[4..<8])) else { return nil }
            address = a
        case 10:
            guard bytes.count >= 24, let a = IPAddress(bytes: Array(bytes[8..<24])) else { return nil }
            address = a
        default: return nil
        }
        guard port != 0 else { return nil }
        self.port = port
    }

    /// A connection made straight to the capture listener itself (no redirect
    /// happened): conntrack reports the listener's own loopback address. It has no
    /// destination beyond the warden and is refused.
    public func isCaptureListener(port listenerPort: UInt16) -> Bool {
        port == listenerPort && AddressPolicy.reservedRange(of: address)?.kind == "loopback"
    }

    public var description: String { address.family == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
}
