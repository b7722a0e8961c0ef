/// One verb of the command line (`create`, `agent run`, `audit verify`), declared once
/// with its flags and arguments: the parser, the help and the reference read it.
public struct Verb: Sendable {
    /// The words that name it: "create", "agent run".
    public let path: String
    /// Other names of the verb ("ps-all" for list).
    public internal(set) var aliases: [String] = []
    public let abstract: String
    public internal(set) var discussion: String?
    /// The verb's own flags. A verb flag named like a global one shadows it (spec's
    /// --rootless switch against runc's global --rootless VALUE).
    public internal(set) var flags: [Flag] = []
    /// Whether runc's global flags (Verbs.global) are accepted, before or after the verb.
    public internal(set) var takesGlobals = true
    /// The positional arguments, in order.
    public internal(set) var arguments: [Argument] = []
    /// What follows the arguments (exec's command, ps's options, agent run's `-- COMMAND`).
    public internal(set) var trailing: Trailing?
    /// Left out of the list of verbs (plumbing between safehouse's executables).
    public internal(set) var hidden = false

    /// A positional argument.
    public struct Argument: Sendable {
        public let name: String
        public let help: String
        /// Absent arguments take this value; nil: the argument is required.
        public internal(set) var defaultValue: String?
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
    }

    /// The first flag that `matches`, among the verb's own and then the global ones:
    /// the one a word names (`isNamed`), or the declaration of a long name (as
    /// ParsedArguments keys it).
    @inline(__always)
    func flag(where matches: (borrowing Flag) -> Bool) -> Flag? {
        if let i = Self.index(in: flags, where: matches) { return flags[i] }
        if takesGlobals, let i = Self.index(in: Verbs.global, where: matches) { return Verbs.global[i] }
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
