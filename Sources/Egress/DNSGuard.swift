/// What the sandbox's resolver does with one question, before any lookup: resolve it
/// (a name some rule of the allowlist names) or refuse it. DNS is a way out of its
/// own: a name under a domain the attacker runs carries data to their server through
/// any resolver. So only names the allowlist admits are looked up at all; the record
/// types that carry free-form data (TXT, NULL) and ANY are refused even for those;
/// and every refusal of that kind is `suspicious`, counted by the warden.
public enum DNSGuard {
    public enum Verdict: Equatable, Sendable {
        /// Look the name up; answer with the addresses the rule lets through.
        case resolve(name: String, rule: AllowRule)
        /// Answer `code` at once and record `reason`.
        case refuse(code: DNSMessage.ResponseCode, reason: String, suspicious: Bool)
        /// A name no rule covers, with a decider to ask (port 0: a lookup); its yes
        /// makes the name resolvable as a rule naming it would.
        case ask(name: String)
    }

    /// `askable`: the sandbox has a decider, asked about a name no rule (nor refusal)
    /// covers instead of refusing it. The record types refused outright stay refused.
    public static func judge(_ question: DNSMessage.Question, allowlist: Allowlist, askable: Bool = false) -> Verdict {
        guard question.class == 1 else {
            return .refuse(code: .refused, reason: "query class \(question.class) is not IN", suspicious: true)
        }
        let freeForm = [DNSMessage.RecordType.txt: "TXT", DNSMessage.RecordType.null: "NULL", DNSMessage.RecordType.any: "ANY"]
        if let kind = freeForm[question.type] {
            return .refuse(code: .refused, reason: "\(kind) queries are refused (\(question.name))", suspicious: true)
        }
        guard case .name(let name)? = Allowlist.Destination(host: question.name) else {
            return .refuse(code: .nameError, reason: "\"\(question.name)\" is not a host name", suspicious: true)
        }
        guard let rule = allowlist.rule(naming: name) else {
            if askable, !allowlist.covers(.name(name)) { return .ask(name: name) }
            return .refuse(code: .nameError, reason: "\(name) matches no rule of network.allow", suspicious: true)
        }
        return .resolve(name: name, rule: rule)
    }
}

extension Allowlist {
    /// The first rule that names `name` (a host or a wildcard), on any port: what a
    /// name lookup needs, since the port comes only with the connection.
    public func rule(naming name: String) -> AllowRule? {
        rules.first { $0.matches(name: name) }
    }
}
