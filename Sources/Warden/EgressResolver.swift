import Egress
#if canImport(Glibc)
import Glibc
#endif

/// Name lookups for the proxy: the operator's hosts mapping first, then the host's
/// resolver. The sandbox has no resolver of its own, so every name it reaches is
/// looked up here, once: the proxy connects to an address this lookup returned and
/// the allowlist checked.
struct EgressResolver: Sendable {
    var hosts: HostsMapping

    /// Every address of `name`, or an empty list. Blocks while the host's resolver
    /// works: call it off the event loop (EgressShared.resolve), or for a mapped name.
    func addresses(of name: String) -> [IPAddress] {
        if let mapped = hosts.lookup(name) { return mapped }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var out: [IPAddress] = []
        var p = result
        while let ai = p {
            if let sa = ai.pointee.ai_addr {
                if ai.pointee.ai_family == AF_INET {
                    let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    let v = withUnsafeBytes(of: a) { Array($0) }
                    if let ip = IPAddress(bytes: v), !out.contains(ip) { out.append(ip) }
                } else if ai.pointee.ai_family == AF_INET6 {
                    let a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    let v = withUnsafeBytes(of: a) { Array($0) }
                    if let ip = IPAddress(bytes: v), !out.contains(ip) { out.append(ip) }
                }
            }
            p = ai.pointee.ai_next
        }
        return out
    }
}
