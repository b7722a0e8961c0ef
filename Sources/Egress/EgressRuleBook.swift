/// A running sandbox's allowlist as it changes: the policy's rules, and what people
/// added or took away since (`safehouse agent allow|deny`), each entry with where it
/// came from. The warden holds one and compiles it into the `Allowlist` every new
/// connection is judged by; a connection already decided keeps its verdict.
///
/// What a change does:
/// - `allow RULE`: a refusal equal to RULE goes; RULE is added unless an equal allow
///   rule is there already.
/// - `deny RULE`: an allow rule equal to RULE goes (a policy rule too). When none is
///   equal, RULE becomes a refusal, which wins over every allow rule: `deny
///   evil.example.com` under `*.example.com` refuses that one host, where removing
///   nothing and saying "no such rule" would leave it open. A refusal is judged per
///   connection (host and port); the sandbox's DNS still answers a name an allow rule
///   names.
/// Rules are equal when they name the same target and ports: `WWW.test` is
/// `www.test`; `www.test` (80 and 443) and `www.test:80` are two rules.
public struct EgressRuleBook: Sendable, Equatable {
    public enum Effect: String, Sendable {
        case allow
        case deny
    }

    public struct Entry: Sendable, Equatable {
        public var rule: AllowRule
        public var effect: Effect
        /// `policy`, or who added it (`uid 0 pid 4242: safehouse agent allow ...`).
        public var source: String

        public init(rule: AllowRule, effect: Effect, source: String) {
            self.rule = rule
            self.effect = effect
            self.source = source
        }
    }

    /// One entry that a change added or removed, for the audit record and the answer.
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case added
            case removed
            /// Nothing to do: the rule was there already.
            case unchanged
        }
        public var kind: Kind
        public var effect: Effect
        public var rule: String

        public var description: String { "\(kind.rawValue) \(effect.rawValue) \(rule)" }
    }

    public private(set) var entries: [Entry]

    /// The policy's rules, in order.
    public init(policy: [AllowRule]) {
        entries = policy.map { Entry(rule: $0, effect: .allow, source: Self.policySource) }
    }

    public static let policySource = "policy"

    /// What every new connection is judged by.
    public var allowlist: Allowlist {
        Allowlist(rules: entries.filter { $0.effect == .allow }.map(\.rule),
                  refusals: entries.filter { $0.effect == .deny }.map(\.rule))
    }

    public mutating func allow(_ rules: [AllowRule], source: String) -> [Change] {
        var changes: [Change] = []
        for rule in rules {
            if let i = entries.firstIndex(where: { $0.effect == .deny && Self.same($0.rule, rule) }) {
                changes.append(Change(kind: .removed, effect: .deny, rule: entries[i].rule.text))
                entries.remove(at: i)
            }
            if entries.contains(where: { $0.effect == .allow && Self.same($0.rule, rule) }) {
                if changes.last?.rule != rule.text { changes.append(Change(kind: .unchanged, effect: .allow, rule: rule.text)) }
                continue
            }
            entries.append(Entry(rule: rule, effect: .allow, source: source))
            changes.append(Change(kind: .added, effect: .allow, rule: rule.text))
        }
        return changes
    }

    public mutating func deny(_ rules: [AllowRule], source: String) -> [Change] {
        var changes: [Change] = []
        for rule in rules {
            let equal = entries.indices.filter { entries[$0].effect == .allow && Self.same(entries[$0].rule, rule) }
            if !equal.isEmpty {
                for i in equal.reversed() {
                    changes.append(Change(kind: .removed, effect: .allow, rule: entries[i].rule.text))
                    entries.remove(at: i)
                }
                continue
            }
            if entries.contains(where: { $0.effect == .deny && Self.same($0.rule, rule) }) {
                changes.append(Change(kind: .unchanged, effect: .deny, rule: rule.text))
                continue
            }
            entries.append(Entry(rule: rule, effect: .deny, source: source))
            changes.append(Change(kind: .added, effect: .deny, rule: rule.text))
        }
        return changes
    }

    static func same(_ a: AllowRule, _ b: AllowRule) -> Bool { a.target == b.target && a.ports == b.ports }
}
