/// The decision on a connection the sandbox made without a proxy, captured by the
/// netfilter redirect: same allowlist, same address guards as a proxied request.
///
/// - With a claimed name (HTTP Host, TLS SNI) the connection is judged as a request
///   for that name, and the address it was sent to must be one the name resolves to
///   (the resolver's answer now, or one the sandbox's DNS gave out for it): an allowed
///   name cannot be pointed at another server.
/// - Without one, the address is mapped back to the names the sandbox's DNS gave it
///   out for; the first whose rule admits the port decides. Failing that, only a
///   literal address or prefix rule admits it.
/// Either way the address checked (and then dialled) is the one the client chose.
public enum CapturedConnection {
    public struct Admitted: Equatable, Sendable {
        /// The name (or address) the decision was made for: the audit record's host.
        public let destination: Allowlist.Destination
        public let rule: AllowRule
    }

    /// `unnamed`: set when the protocol carries a host name and this connection gave
    /// none (a ClientHello without SNI, an HTTP request without Host), saying so. The
    /// server then picks the site (its default one, or one an inner Host asks for), so
    /// the names the DNS gave the address out for do not admit it: only an address rule.
    public static func decide(_ original: OriginalDestination, claimed: String?, unnamed: String? = nil, allowlist: Allowlist,
                              book: AddressBook, resolve: (String) -> [IPAddress]) -> Result<Admitted, EgressDenial> {
        let address = original.address.unmappedV4 ?? original.address
        let port = original.port
        if let claimed {
            guard let destination = Allowlist.Destination(host: claimed) else {
                return .failure(EgressDenial("\"\(claimed)\" is not a host name or address"))
            }
            let rule: AllowRule
            switch allowlist.admit(destination, port: port) {
            case .denied(let reason): return .failure(EgressDenial(reason))
            case .allowed(let r): rule = r
            }
            switch destination {
            case .address(let a):
                guard a == address else { return .failure(EgressDenial("\(claimed) was asked of \(address), another address")) }
            case .name(let n):
                guard book.names(of: address).contains(n) || resolve(n).contains(address) else {
                    return .failure(EgressDenial("\(address) is not an address of \(n)"))
                }
            }
            return allowlist.check(addresses: [address], for: destination, rule: rule).map { _ in Admitted(destination: destination, rule: rule) }
        }
        for name in book.names(of: address) where unnamed == nil {
            if case .allowed(let rule) = allowlist.admit(.name(name), port: port) {
                return allowlist.check(addresses: [address], for: .name(name), rule: rule).map { _ in
                    Admitted(destination: .name(name), rule: rule)
                }
            }
        }
        switch allowlist.admit(.address(address), port: port) {
        case .allowed(let rule):
            return allowlist.check(addresses: [address], for: .address(address), rule: rule).map { _ in
                Admitted(destination: .address(address), rule: rule)
            }
        case .denied(let reason):
            // A name the DNS gave out for it, on a port its rule does not allow, reads
            // better than "the address matches no rule".
            if let name = book.names(of: address).first, case .denied(let byName) = allowlist.admit(.name(name), port: port) {
                return .failure(EgressDenial(byName))
            }
            if let unnamed, let name = book.names(of: address).first {
                return .failure(EgressDenial("\(unnamed); \(address) is allowed only by name (\(name)), which it must send"))
            }
            return .failure(EgressDenial(reason))
        }
    }

    /// The check a claimed name must pass for a destination already decided by name
    /// (SOCKS, where the client named the host first): the same name, or, for a
    /// literal address, a name the allowlist admits on this port (as for CONNECT).
    public static func checkClaim(_ claimed: String?, for destination: Allowlist.Destination, port: UInt16,
                                  allowlist: Allowlist) -> EgressDenial? {
        guard let claimed else { return nil }
        switch destination {
        case .name(let host):
            return claimed == host ? nil : EgressDenial("\(claimed) (server name or Host) does not match the requested host \(host)")
        case .address:
            if case .denied = allowlist.admit(Allowlist.Destination(host: claimed) ?? .name(claimed), port: port) {
                return EgressDenial("\(claimed) (server name or Host) is not allowed")
            }
            return nil
        }
    }
}
