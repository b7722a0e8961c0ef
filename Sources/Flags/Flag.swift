/// One flag of a verb, declared once: the parser reads it, and the help text and
/// docs/cli.md's reference are generated from it.
///
/// Names are kept as whole words ("--bundle", "-b"), compared as strings: the parser
/// runs on the hot path of every `run`, and a linear search of a verb's few names is
/// cheaper than building a Set or Dictionary (each first Hashable collection of String
/// scans every protocol conformance record of the static binary).
public struct Flag: Sendable {
    /// The long name, with its dashes: "--bundle". Parsed values are looked up by it.
    public let name: String
    /// Other long names that mean the same ("--cpu-shares" for runc's "--cpu-share").
    public let aliases: [String]
    /// The short form with its dash ("-b"), if any.
    public let short: String?
    /// What the value is called in usage ("path", "n"); nil for a switch, which takes none.
    public let valueName: String?
    /// Given more than once, every value counts (--env A=1 --env B=2).
    public let repeatable: Bool
    /// The verb fails without it.
    public let required: Bool
    /// The next word is the value even when it starts with a dash (`--cpu-quota -1`),
    /// as urfave/cli (runc) reads values; other flags take a dashed word as a missing value.
    public let takesDashedValue: Bool
    /// The value used when the flag is absent, as help shows it.
    public let defaultValue: String?
    public let help: String
    /// How the flag relates to runc's, where it differs (no such flag, refused, spelled
    /// differently); nil where it is runc's flag, unchanged.
    public let runc: String?
    /// Left out of help and docs (internal plumbing between safehouse's executables).
    public let hidden: Bool

    /// A flag that takes a value.
    public static func option(
        _ name: String, short: String? = nil, aliases: [String] = [], value: String,
        default defaultValue: String? = nil, repeatable: Bool = false, required: Bool = false,
        takesDashedValue: Bool = false, help: String, runc: String? = nil, hidden: Bool = false
    ) -> Flag {
        Flag(name: name, aliases: aliases, short: short, valueName: value, repeatable: repeatable, required: required,
             takesDashedValue: takesDashedValue, defaultValue: defaultValue, help: help, runc: runc, hidden: hidden)
    }

    /// A switch: present or not, no value.
    public static func flag(_ name: String, short: String? = nil, aliases: [String] = [], help: String, runc: String? = nil) -> Flag {
        Flag(name: name, aliases: aliases, short: short, valueName: nil, repeatable: false, required: false,
             takesDashedValue: false, defaultValue: nil, help: help, runc: runc, hidden: false)
    }

    public var takesValue: Bool { valueName != nil }

    /// Whether `word` (without any "=value") names this flag.
    @inline(__always)
    func isNamed(_ word: String) -> Bool {
        word == name || word == short || aliases.contains(word)
    }
}
