/// One verb of the command line (`create`, `agent run`, `audit verify`), declared once
/// with its flags and arguments: the parser, the help and the reference read it.
public struct Verb: Sendable {
    /// The words that name it: "create", "agent run".
    public let path: String
    /// Other names of the verb ("ps-all" for list).
    public let aliases: [String]
    public let abstract: String
    public let discussion: String?
    /// The verb's own flags. A verb flag named like a global one shadows it (spec's
    /// --rootless switch against runc's global --rootless VALUE).
    public let flags: [Flag]
    /// Whether runc's global flags (Verbs.global) are accepted, before or after the verb.
    public let takesGlobals: Bool
    /// The positional arguments, in order.
    public let arguments: [Argument]
    /// What follows the arguments (exec's command, ps's options, agent run's `-- COMMAND`).
    public let trailing: Trailing?
    /// Left out of the list of verbs (plumbing between safehouse's executables).
    public let hidden: Bool

    public init(_ path: String, aliases: [String] = [], abstract: String, discussion: String? = nil,
                flags: [Flag] = [], takesGlobals: Bool = true, arguments: [Argument] = [],
                trailing: Trailing? = nil, hidden: Bool = false) {
        self.path = path
        self.aliases = aliases
        self.abstract = abstract
        self.discussion = discussion
        self.flags = flags
        self.takesGlobals = takesGlobals
        self.arguments = arguments
        self.trailing = trailing
        self.hidden = hidden
    }

    /// A positional argument.
    public struct Argument: Sendable {
        public let name: String
        public let help: String
        /// Absent arguments take this value; nil: the argument is required.
        public let defaultValue: String?

        public init(_ name: String, help: String, default defaultValue: String? = nil) {
            self.name = name
            self.help = help
            self.defaultValue = defaultValue
        }
    }

    /// Words after the arguments, handed to the verb as they are.
    public struct Trailing: Sendable {
        public enum Start: Sendable {
            /// Once the arguments are read, every further word, flags included (runc's
            /// `exec ID COMMAND...`; a leading `--` is the verb's to drop).
            case afterArguments
            /// Only the words after `--`; any other extra word is an error (`agent run
            /// [options] -- COMMAND`).
            case afterTerminator
        }
        public let name: String
        public let help: String
        public let start: Start

        public init(_ name: String, help: String, start: Start) {
            self.name = name
            self.help = help
            self.start = start
        }
    }

    /// The flag `word` names, among the verb's own and then the global ones.
    @inline(__always)
    func flag(named word: String) -> Flag? {
        if let i = Self.index(in: flags, where: { $0.isNamed(word) }) { return flags[i] }
        if takesGlobals, let i = Self.index(in: Verbs.global, where: { $0.isNamed(word) }) { return Verbs.global[i] }
        return nil
    }

    /// The declaration of the flag whose long name is `name` (as ParsedArguments keys it).
    func declaration(of name: String) -> Flag? {
        if let i = Self.index(in: flags, where: { $0.name == name }) { return flags[i] }
        if takesGlobals, let i = Self.index(in: Verbs.global, where: { $0.name == name }) { return Verbs.global[i] }
        return nil
    }

    /// The first flag of `flags` that `matches`: a plain index loop over the table
    /// (on the hot path; it copies no declaration it does not return).
    @inline(__always)
    static func index(in flags: [Flag], where matches: (borrowing Flag) -> Bool) -> Int? {
        var i = 0
        while i < flags.count {
            if matches(flags[i]) { return i }
            i += 1
        }
        return nil
    }

    /// The global flags as this verb takes them: those its own flags do not shadow.
    public var globalFlags: [Flag] {
        guard takesGlobals else { return [] }
        return Verbs.global.filter { global in !flags.contains { $0.name == global.name } }
    }
}
