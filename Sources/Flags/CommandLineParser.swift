/// The one parser of safehouse's command lines, driven by the declarations in `Verbs`:
/// the runtime (`safehouse`) and the audit executable (`safehouse-audit`) both use it.
///
/// It accepts the command lines runc's users write: flags before, between and after
/// the arguments, `--flag value` and `--flag=value`, short forms, grouped short switches
/// (`-dt`), a repeated option's values in order, `--` ending the flags. It runs on the
/// hot path of every `run`, so it only compares strings against the one verb's table:
/// no Set, no Dictionary, no Foundation.
public enum CommandLineParser {
    /// Finds the verb `words` name (`create`, `agent run`): the verb and the index of
    /// its first word after the name, or nil when the words name no verb (or only a
    /// group: `agent` alone).
    public static func verb(in words: [String]) -> (verb: Verb, next: Int)? {
        guard let first = words.first else { return nil }
        if let group = Verbs.group(named: first) {
            guard words.count > 1, let verb = Verbs.verb(named: group + " " + words[1]) else { return nil }
            return (verb, 2)
        }
        guard let verb = Verbs.verb(named: first) else { return nil }
        return (verb, 1)
    }

    /// Reads `words[start...]` against `verb`'s declaration.
    public static func parse(_ words: [String], from start: Int, as verb: Verb) throws -> ParsedArguments {
        var parsed = ParsedArguments(verb: verb)
        var i = start
        var flagsEnded = false
        while i < words.count {
            let word = words[i]
            i += 1
            if flagsEnded || !word.hasPrefix("-") || word == "-" {
                guard parsed.arguments.count < verb.arguments.count else {
                    throw UsageError(verb: verb.path, "unexpected argument \"\(word)\"")
                }
                parsed.arguments.append(word)
                if parsed.arguments.count == verb.arguments.count, verb.trailing?.start == .afterArguments {
                    parsed.trailing = Array(words[i...])
                    break
                }
                continue
            }
            if word == "--" {
                if verb.trailing?.start == .afterTerminator {
                    parsed.trailing = Array(words[i...])
                    break
                }
                flagsEnded = true
                continue
            }
            if word == "-h" || word == "--help" {
                parsed.helpRequested = true
                return parsed
            }
            var name = word
            var inline: String?
            if word.hasPrefix("--"), let eq = word.firstIndex(of: "=") {
                name = String(word[..<eq])
                inline = String(word[word.index(after: eq)...])
            }
            guard let flag = verb.flag(where: { $0.isNamed(name) }) else {
                // Short switches written together: -dt is -d -t.
                if !word.hasPrefix("--"), word.utf8.count > 2, let group = switches(grouped: word, of: verb) {
                    for flag in group { parsed.given.append((flag.name, nil)) }
                    continue
                }
                throw UsageError(verb: verb.path, "unknown flag \"\(name)\"")
            }
            guard flag.takesValue else {
                guard inline == nil else { throw UsageError(verb: verb.path, "\(flag.name) takes no value") }
                parsed.given.append((flag.name, nil))
                continue
            }
            if inline == nil {
                guard i < words.count, flag.takesDashedValue || !words[i].hasPrefix("-") || words[i] == "-" else {
                    throw UsageError(verb: verb.path, "\(name) needs a value (\(name) <\(flag.valueName ?? "value")>)")
                }
                inline = words[i]
                i += 1
            }
            parsed.given.append((flag.name, inline))
        }
        for flag in verb.flags where flag.required && !parsed.isSet(flag.name) {
            throw UsageError(verb: verb.path, "missing \(flag.name) <\(flag.valueName ?? "value")>")
        }
        while parsed.arguments.count < verb.arguments.count {
            let argument = verb.arguments[parsed.arguments.count]
            guard let value = argument.defaultValue else {
                throw UsageError(verb: verb.path, "missing <\(argument.name)>")
            }
            parsed.arguments.append(value)
        }
        return parsed
    }

    /// `-dt` as the switches -d and -t, or nil unless every letter is a switch's short form.
    private static func switches(grouped word: String, of verb: Verb) -> [Flag]? {
        var flags: [Flag] = []
        for letter in word.dropFirst() {
            let short = "-" + String(letter)
            guard let flag = verb.flag(where: { $0.isNamed(short) }), !flag.takesValue else { return nil }
            flags.append(flag)
        }
        return flags
    }
}
