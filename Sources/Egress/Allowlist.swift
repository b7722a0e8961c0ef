/// A policy's `network.allow`, compiled: decides whether a sandbox may reach a
/// destination, in two steps that the proxy runs around its own name lookup:
///
/// 1. `admit(host:port:)` before any lookup: does some rule name this host (or this
///    literal address) and port? Default deny.
/// 2. `check(addresses:for:)` after the lookup: every resolved address must be
///    ordinary, or be named exactly by a literal-address rule. One bad address refuses
///    the whole name (a name that resolves to a private address is an attack, not a
///    routing choice), and the proxy connects only to an address that passed here: no
///    second lookup, so DNS rebinding gets nothing.
///
/// `refusals` are rules a person added at run time (`agent deny` of a destination no
/// allow rule equals, EgressRuleBook): they win over every allow rule, so a denied
/// host under an allowed wildcard stays refused.
public struct Allowlist: Sendable {
    public let rules: [AllowRule]
    public let refusals: [AllowRule]
    /// Destinations a decider let through for one decision: they admit (step 1) as a
    /// rule would, but never open a reserved address (step 2 looks at `rules` alone),
    /// so a decider's yes to a private or metadata address is still refused.
    public let decided: [AllowRule]

    public init(rules: [AllowRule], refusals: [AllowRule] = [], decided: [AllowRule] = []) {
        self.rules = rules
        self.refusals = refusals
        self.decided = decided
    }

    /// This allowlist with a decider's yes (`rule`) admitting too.
    public func admitting(decided rule: AllowRule) -> Allowlist {
        Allowlist(rules: rules, refusals: refusals, decided: decided + [rule])
    }

    /// The comma-separated form carried by the `io.safehouse.network.allow` annotation.
    public init(annotation: String) throws {
        rules = try annotation.split(separator: ",").map(String.init)
            .map { $0.trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }.map(AllowRule.init)
        refusals = []
        decided = []
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// Where a request wants to go, as the client named it.
    public enum Destination: Hashable, Sendable, CustomStringConvertible {
        case name(String)
        case address(IPAddress)

        /// A request's host: a literal address (IPv6 possibly in brackets) or a name.
        public init?(host: String) {
            if let a = IPAddress(host) { self = .address(a); return }
            var h = host.lowercased()
            if h.hasSuffix(".") { h.removeLast() }  // "example.com." is example.com
            guard HostName.isValid(h) else { return nil }
            // All-numeric dotted names (inet_aton forms like 0177.1 or 2130706433) are
            // not host names: refuse rather than let a resolver read them as addresses.
            // No top-level domain starts with a digit; inet_aton's last part always does.
            if let last = h.split(separator: ".").last, let c = last.first, c.isASCII, c.isNumber { return nil }
            self = .name(h)
        }

        public var description: String {
            switch self {
            case .name(let n): return n
            case .address(let a): return a.family == .v6 ? "[\(a)]" : "\(a)"
            }
        }
    }

    public enum Decision: Equatable, Sendable {
        case allowed(rule: AllowRule)
        case denied(reason: String)
    }

    /// Step 1: the rule that allows `destination:port`, before any lookup.
    public func admit(_ destination: Destination, port: UInt16) -> Decision {
        if let refusal = refusal(of: destination, port: port) {
            return .denied(reason: "\(destination) port \(port) is refused by rule \"deny \(refusal)\"")
        }
        let candidates = (rules + decided).filter { $0.covers(destination) }
        if let rule = candidates.first(where: { $0.ports.contains(port) }) { return .allowed(rule: rule) }
        if let rule = candidates.first {
            return .denied(reason: "\(destination) port \(port) is not allowed: rule \"\(rule)\" allows ports \(rule.ports)")
        }
        return .denied(reason: "\(destination) matches no rule of network.allow")
    }

    /// Step 2: after the lookup, the addresses the proxy may connect to for a
    /// destination that `rule` admitted. Every address is checked; one refused address
    /// refuses them all.
    public func check(addresses: [IPAddress], for destination: Destination, rule: AllowRule) -> Result<[IPAddress], EgressDenial> {
        guard !addresses.isEmpty else { return .failure(EgressDenial("\(destination) has no address")) }
        for a in addresses {
            if let refusal = refusals.first(where: { $0.contains(a) }) {
                return .failure(EgressDenial("\(a) is refused by rule \"deny \(refusal)\""))
            }
            if case .network = rule.target, !rule.contains(a) {
                return .failure(EgressDenial("\(a) is outside rule \"\(rule)\""))
            }
            guard let reserved = AddressPolicy.reservedRange(of: a) else { continue }
            // Only a rule that names this exact address opens a reserved one.
            if rules.contains(where: { $0.namesExactly(a) }) { continue }
            let via = destination == .address(a) ? "" : " (resolved from \(destination))"
            return .failure(EgressDenial(
                "\(a)\(via) is \(reserved.phrase) (\(reserved.cidr)); rule \"\(rule)\" does not name it exactly"))
        }
        return .success(addresses)
    }
}

extension Allowlist {
    /// Whether some rule (an allow rule or a refusal) names `destination`, on any
    /// port: a destination no rule covers is the one a decider is asked about.
    public func covers(_ destination: Destination) -> Bool {
        (rules + refusals).contains { $0.covers(destination) }
    }

    /// The refusal that covers `destination` on `port`, if any.
    func refusal(of destination: Destination, port: UInt16) -> AllowRule? {
        refusals.first { $0.ports.contains(port) && $0.covers(destination) }
    }
}

/// Why a destination was refused: one line, naming the rule where one applies.
public struct EgressDenial: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
