/// A policy's secret as the proxy holds it: the placeholder the sandbox sees in its
/// variable, the real value (read on the host at create, handed to the warden through
/// its configuration pipe, never written anywhere), the hosts it may go to, and how.
public struct EgressSecret: Sendable, Equatable {
    /// The sandbox's variable that holds the placeholder (for records: never the value).
    public var name: String
    /// `safehouse-secret-` and 32 hex digits.
    public var placeholder: String
    /// Host names (`api.test`) or wildcards (`*.api.test`) the value may go to.
    public var hosts: [AllowRule]
    /// `Authorization: Bearer {}`: the proxy sets this header, `{}` the value, on every
    /// request to those hosts (replacing one the client sent). Nil: the placeholder is
    /// replaced where it appears in the headers.
    public var header: String?
    public var value: [UInt8]

    public init(name: String, placeholder: String, hosts: [AllowRule], header: String?, value: [UInt8]) {
        self.name = name
        self.placeholder = placeholder
        self.hosts = hosts
        self.header = header
        self.value = value
    }

    public static let placeholderPrefix = "safehouse-secret-"

    /// Whether `destination` is one of the secret's hosts (names only: an address is never).
    public func goes(to destination: Allowlist.Destination) -> Bool {
        guard case .name(let n) = destination else { return false }
        return hosts.contains { $0.matches(name: n) }
    }

    /// `Authorization: Bearer {}` is a header line with one `{}`: what a policy may write.
    public static func checkHeader(_ template: String) -> String? {
        guard let colon = template.firstIndex(of: ":"), template[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
              template.startIndex < colon else {
            return "not a header line (Name: value with {})"
        }
        let bytes = Array(template.utf8)
        let marks = bytes.indices.dropLast().filter { bytes[$0] == UInt8(ascii: "{") && bytes[$0 + 1] == UInt8(ascii: "}") }.count
        guard marks == 1 else { return "needs exactly one {} where the value goes" }
        guard !template.contains("\r"), !template.contains("\n") else { return "has a line break" }
        return nil
    }
}

/// What the proxy does with a plain HTTP request's head and the body bytes that came
/// with it before it goes upstream: the secrets bound for this host are put in, and a
/// request carrying a placeholder anywhere else is refused (named by the secret's
/// variable; neither the value nor the placeholder goes into a reason).
public enum SecretInjection {
    /// The head to send and the names of the secrets put in; or the refusal.
    public static func apply(head: [UInt8], body: [UInt8], to destination: Allowlist.Destination,
                             secrets: [EgressSecret]) -> Result<(head: [UInt8], injected: [String]), EgressDenial> {
        guard !secrets.isEmpty else { return .success((head, [])) }
        var lines = split(head)
        var injected: [String] = []
        for secret in secrets {
            let mark = Array(secret.placeholder.utf8)
            let inTarget = contains(Array(lines.first ?? []), mark)
            let inHeaders = lines.dropFirst().contains { contains($0, mark) }
            let inBody = contains(body, mark)
            guard secret.goes(to: destination) else {
                if inTarget || inHeaders || inBody {
                    let hosts = secret.hosts.map(\.text).joined(separator: ", ")
                    return .failure(EgressDenial("the request carries secret \(secret.name) to \(destination), which is not one of its hosts (\(hosts))"))
                }
                continue
            }
            if inTarget || inBody {
                return .failure(EgressDenial("secret \(secret.name) is in the request \(inTarget ? "target" : "body"): it is put in headers only"))
            }
            if inHeaders {
                for i in lines.indices.dropFirst() { lines[i] = replacing(lines[i], mark, with: secret.value) }
                injected.append(secret.name)
            }
            if let header = secret.header, let colon = header.firstIndex(of: ":") {
                let name = header[..<colon].lowercased()
                // The client's own header of that name goes: the policy's says what is sent.
                lines = [lines[0]] + lines.dropFirst().filter { line in
                    guard let c = line.firstIndex(of: UInt8(ascii: ":")) else { return true }
                    return String(decoding: line[..<c], as: UTF8.self).lowercased().trimmingCharacters(in: " \t") != name
                }
                lines.append(replacing(Array(header.utf8), Array("{}".utf8), with: secret.value))
                if !injected.contains(secret.name) { injected.append(secret.name) }
            }
        }
        return .success((join(lines), injected))
    }

    /// The head's lines without their CRLFs (the blank last line left out).
    static func split(_ head: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = 0
        for i in head.indices.dropLast() where head[i] == 13 && head[i + 1] == 10 {
            lines.append(Array(head[start..<i]))
            start = i + 2
        }
        if start < head.count { lines.append(Array(head[start...])) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    static func join(_ lines: [[UInt8]]) -> [UInt8] {
        var head: [UInt8] = []
        for line in lines { head += line + [13, 10] }
        return head + [13, 10]
    }

    static func contains(_ bytes: [UInt8], _ mark: [UInt8]) -> Bool {
        guard !mark.isEmpty, bytes.count >= mark.count else { return false }
        for i in 0...(bytes.count - mark.count) where bytes[i] == mark[0] && Array(bytes[i..<i + mark.count]) == mark { return true }
        return false
    }

    static func replacing(_ bytes: [UInt8], _ mark: [UInt8], with value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if i + mark.count <= bytes.count, bytes[i] == mark[0], Array(bytes[i..<i + mark.count]) == mark {
                out += value
                i += mark.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
