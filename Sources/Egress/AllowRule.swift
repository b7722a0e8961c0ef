/// Ports a rule allows: one, a range, or the default set.
public struct PortSet: Hashable, Sendable, CustomStringConvertible {
    public let ranges: [ClosedRange<UInt16>]
    /// 80 and 443: what an entry without a port allows.
    public static let `default` = PortSet(ranges: [80...80, 443...443])

    public init(ranges: [ClosedRange<UInt16>]) { self.ranges = ranges }

    /// `443` or `8000-8999`.
    public init?(_ text: Substring) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        func port(_ s: Substring) -> UInt16? {
            guard !s.isEmpty, s.count <= 5, s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt16(s), v > 0 else { return nil }
            return v
        }
        if parts.count == 1, let p = port(parts[0]) { ranges = [p...p]; return }
        if parts.count == 2, let lo = port(parts[0]), let hi = port(parts[1]), lo <= hi { ranges = [lo...hi]; return }
        return nil
    }

    public func contains(_ port: UInt16) -> Bool { ranges.contains { $0.contains(port) } }

    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}

/// One entry of a policy's `network.allow`, as written:
///
/// - `example.com`: that host only; `*.example.com`: its subdomains only (not the apex).
/// - `example.com:8443`, `example.com:8000-8999`: those ports instead of 80 and 443.
/// - `203.0.113.7`, `[2001:db8::1]:443`, `203.0.113.0/24`: literal addresses and prefixes.
///   A literal address is the only way to open a reserved one (loopback, private,
///   metadata...): a prefix or a name never does.
public struct AllowRule: Hashable, Sendable, CustomStringConvertible {
    public enum Target: Hashable, Sendable {
        case host(String)
        case subdomains(of: String)
        case network(CIDR)
    }

    public let target: Target
    public let ports: PortSet
    /// The entry as the policy wrote it, for reasons and audit records.
    public let text: String

    public init(_ entry: String) throws {
        let text = entry.trimmingCharacters(in: " \t")
        guard !text.isEmpty else { throw EgressPolicyError("network.allow: empty entry") }
        var hostPart = Substring(text)
        var ports = PortSet.default
        func fail(_ why: String) -> EgressPolicyError { EgressPolicyError("network.allow: \"\(text)\": \(why)") }
        if text.hasPrefix("[") {
            // [v6] or [v6]:port or [v6/len]:port
            guard let close = text.firstIndex(of: "]") else { throw fail("unclosed [") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = PortSet(rest.dropFirst()) else { throw fail("bad port after ]") }
                ports = p
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            hostPart = text[..<colon]
            guard let p = PortSet(text[text.index(after: colon)...]) else {
                throw fail("bad port \"\(text[text.index(after: colon)...])\" (a number 1-65535 or a range LOW-HIGH)")
            }
            ports = p
        }
        let host = String(hostPart)
        if let cidr = CIDR(host) {
            target = .network(cidr)
        } else if host.contains(":") || host.contains("/") {
            throw fail("not an address, prefix or host name")
        } else if host.hasPrefix("*.") {
            let domain = String(host.dropFirst(2)).lowercased()
            guard HostName.isValid(domain), domain.contains(".") || domain.count > 0 else { throw fail("bad domain after *.") }
            target = .subdomains(of: domain)
        } else {
            let h = host.lowercased()
            guard HostName.isValid(h) else {
                throw fail("not a host name (letters, digits, '-', '.'; a wildcard only as a leading \"*.\")")
            }
            // No top-level domain starts with a digit; inet_aton's numeric forms do.
            if let last = h.split(separator: ".").last, let c = last.first, c.isASCII, c.isNumber {
                throw fail("not a valid IPv4 address or host name")
            }
            target = .host(h)
        }
        self.ports = ports
        self.text = text
    }

    /// Whether this rule names `host` (a lower-cased name; not an address).
    func matches(name host: String) -> Bool {
        switch target {
        case .host(let h): return h == host
        case .subdomains(let d): return host.hasSuffix("." + d) && host.count > d.count + 1
        case .network: return false
        }
    }

    /// Whether this rule names the exact address (a literal, or a one-address prefix).
    func namesExactly(_ address: IPAddress) -> Bool {
        guard case .network(let cidr) = target, cidr.isSingleAddress else { return false }
        return cidr.network == address || cidr.network == address.unmappedV4
    }

    func contains(_ address: IPAddress) -> Bool {
        guard case .network(let cidr) = target else { return false }
        return cidr.contains(address) || (address.unmappedV4.map(cidr.contains) ?? false)
    }

    /// Whether this rule names `destination` (on any port).
    func covers(_ destination: Allowlist.Destination) -> Bool {
        switch destination {
        case .name(let n): return matches(name: n)
        case .address(let a): return contains(a)
        }
    }

    public var description: String { text }
}

/// Host name syntax (RFC 1123 labels), lower case.
public enum HostName {
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { l in
            !l.isEmpty && l.utf8.count <= 63 && !l.hasPrefix("-") && !l.hasSuffix("-")
                && l.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "-" || $0 == "_" }
        }
    }
}

public struct EgressPolicyError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
