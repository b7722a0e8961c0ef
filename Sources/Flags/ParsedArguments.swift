/// A command line as the parser read it against one verb's declaration: the flags in
/// the order given, the positional arguments, and the trailing words. Values come out
/// typed; an option that is absent reads as its declared default (`value`, `integer`),
/// so each default is written once, in the table.
public struct ParsedArguments: Sendable {
    public let verb: Verb
    /// Each flag given, in order, under its long name; a switch has no text.
    public internal(set) var given: [(flag: String, text: String?)] = []
    /// The positional arguments, absent ones filled with their defaults.
    public internal(set) var arguments: [String] = []
    /// The words after the arguments (Verb.Trailing).
    public internal(set) var trailing: [String] = []
    /// `-h` or `--help` was given: the caller prints help instead of running the verb.
    public internal(set) var helpRequested = false

    public init(verb: Verb) { self.verb = verb }

    /// Whether the switch (or option) `name` was given.
    public func isSet(_ name: String) -> Bool {
        lastIndex(of: name) != nil
    }

    /// The option's value: the last one given, or nil. (An option declared with a
    /// default is read with `value`: only those look their declaration up.)
    public func string(_ name: String) -> String? {
        lastIndex(of: name).flatMap { given[$0].text }
    }

    /// The value of an option declared with a default: the last one given, else the default.
    public func value(_ name: String) -> String {
        string(name) ?? verb.flag(where: { $0.name == name })?.defaultValue ?? ""
    }

    /// Every value of a repeatable option, in order.
    public func strings(_ name: String) -> [String] {
        given.compactMap { $0.flag == name ? $0.text : nil }
    }

    /// The option's value as an integer of type T; a value that is not one is a usage error.
    public func integer<T: FixedWidthInteger>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard let text = string(name) ?? verb.flag(where: { $0.name == name })?.defaultValue else { return nil }
        return try Self.integer(text, name, verb)
    }

    /// Every value of a repeatable integer option.
    public func integers<T: FixedWidthInteger>(_ name: String, as type: T.Type = T.self) throws -> [T] {
        try strings(name).map { try Self.integer($0, name, verb) }
    }

    /// Where `name` was last given. A plain index loop: these lookups run on every
    /// `run`, a dozen times, and need no iterator or closure.
    private func lastIndex(of name: String) -> Int? {
        var i = given.count
        while i > 0 {
            i -= 1
            if given[i].flag == name { return i }
        }
        return nil
    }

    private static func integer<T: FixedWidthInteger>(_ text: String, _ name: String, _ verb: Verb) throws -> T {
        guard let value = T(text) else {
            throw UsageError(verb: verb.path, "\(name): \"\(text)\" is not an integer\(T.isSigned ? "" : " of 0 or more")")
        }
        return value
    }
}

/// A command line the declaration does not allow: an unknown flag, a missing value or
/// argument, a stray word. Printed as one line naming the verb's help; exit status 1,
/// as runc (urfave/cli) has it.
public struct UsageError: Error, CustomStringConvertible, Sendable {
    /// The verb's words ("create", "agent run"); empty for the root.
    public let verb: String
    public let message: String

    public init(verb: String, _ message: String) {
        self.verb = verb
        self.message = message
    }

    public var description: String {
        let command = verb.isEmpty ? "safehouse" : "safehouse " + verb
        return "\(command): \(message) (see \(command) --help)"
    }
}
