import Egress
#if canImport(Glibc)
import Glibc
#endif

/// Name lookups for the proxy, after the operator's hosts mapping (EgressShared.resolve):
/// the host's resolver. The sandbox has no resolver of its own, so every name it
/// reaches is looked up here, once: the proxy connects to an address this lookup
/// returned and the allowlist checked.
enum EgressResolver {
    /// Every address of `name`, or an empty list. Blocks while the host's resolver
    /// works: call it off the event loop (EgressShared.resolve).
    static func addresses(of name: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var out: [IPAddress] = []
        var p = result
        while let ai = p {
            let sa = ai.pointee.ai_addr
            let bytes: [UInt8]?
            switch ai.pointee.ai_family {
            case AF_INET: bytes = sa?.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
            case AF_INET6: bytes = sa?.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
            default: bytes = nil
            }
            if let bytes, let ip = IPAddress(bytes: bytes), !out.contains(ip) { out.append(ip) }
            p = ai.pointee.ai_next
        }
        return out
    }
}
