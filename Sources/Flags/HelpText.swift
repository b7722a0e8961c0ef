/// `safehouse VERB --help` and the top-level help, written from the declarations.
/// Only help runs this code: the parse of an ordinary command line never does.
public enum HelpText {
    /// The help of one verb.
    public static func verb(_ verb: Verb) -> String {
        var text = wrapped(verb.abstract, columns: 80).joined(separator: "\n") + "\n"
        if let discussion = verb.discussion { text += "\n" + wrapped(discussion, columns: 80).joined(separator: "\n") + "\n" }
        text += "\nUSAGE: " + usage(verb) + "\n"
        var rows: [(String, String)] = verb.arguments.map { ("<\($0.name)>", $0.help + defaultNote($0.defaultValue)) }
        if let trailing = verb.trailing { rows.append(("<\(trailing.name)>...", trailing.help)) }
        if !rows.isEmpty { text += "\nARGUMENTS:\n" + table(rows) }
        let own = verb.flags.filter { !$0.hidden }.map(row)
        text += "\nOPTIONS:\n" + table(own + [("-h, --help", "Show help information.")])
        let globals = verb.globalFlags.map(row)
        if !globals.isEmpty { text += "\nGLOBAL OPTIONS:\n" + table(globals) }
        if !verb.aliases.isEmpty { text += "\nALIASES: " + verb.aliases.joined(separator: ", ") + "\n" }
        return text
    }

    /// The help of a group (`safehouse agent --help`): its verbs.
    public static func group(_ group: String) -> String {
        let verbs = Verbs.all.filter { $0.path.hasPrefix(group + " ") && !$0.hidden }
        return Verbs.abstract(ofGroup: group) + "\n\nUSAGE: safehouse \(group) <command>\n\nCOMMANDS:\n"
            + table(verbs.map { (String($0.path.dropFirst(group.count + 1)), $0.abstract) })
            + "\n  See 'safehouse \(group) <command> --help' for a command's options.\n"
    }

    /// `safehouse --help`: every verb (a group once).
    public static func root() -> String {
        var rows: [(String, String)] = []
        var seen: [String] = []
        for verb in Verbs.all where !verb.hidden {
            let first = String(verb.path.split(separator: " ")[0])
            if seen.contains(first) { continue }
            seen.append(first)
            rows.append((first, first == verb.path ? verb.abstract : Verbs.abstract(ofGroup: first)))
        }
        return """
            An OCI container runtime for running AI agents safely.

            Runs OCI bundles with runc's command line (create, start, run, state, kill, \
            delete, list, spec, features). Global options go before or after the command.

            USAGE: safehouse [global options] <command> [options] [arguments]

            GLOBAL OPTIONS:
            \(table(Verbs.global.map(row)))  -v, --version             Show the version.
              -h, --help                Show help information.

            COMMANDS:
            \(table(rows))
              See 'safehouse help <command>' or 'safehouse <command> --help' for a command's options.

            """
    }

    /// `safehouse create [options] <id>`.
    public static func usage(_ verb: Verb) -> String {
        var words = ["safehouse", verb.path]
        if !verb.flags.isEmpty || verb.takesGlobals { words.append("[options]") }
        for flag in verb.flags where flag.required { words.append("\(flag.name) <\(flag.valueName ?? "value")>") }
        for argument in verb.arguments { words.append(argument.defaultValue == nil ? "<\(argument.name)>" : "[<\(argument.name)>]") }
        if let trailing = verb.trailing {
            words.append(trailing.start == .afterTerminator ? "-- <\(trailing.name)>..." : "[<\(trailing.name)>...]")
        }
        return words.joined(separator: " ")
    }

    /// "-b, --bundle <path>".
    static func spelling(_ flag: Flag) -> String {
        var names = flag.short.map { [$0] } ?? []
        names.append(flag.name)
        names += flag.aliases
        return names.joined(separator: ", ") + (flag.valueName.map { " <\($0)>" } ?? "")
    }

    /// A flag's row: its spelling, and its help with its default, repetition and runc note.
    private static func row(_ flag: Flag) -> (String, String) {
        var text = flag.help
        if flag.repeatable && !text.contains("repeatable") { text += " Repeatable." }
        text += defaultNote(flag.defaultValue)
        if let runc = flag.runc { text += " (runc: \(runc))" }
        return (spelling(flag), text)
    }

    private static func defaultNote(_ value: String?) -> String {
        value.map { " (default: \($0))" } ?? ""
    }

    /// Two columns: names padded to one width (at most 26), the help after them,
    /// wrapped at 80 columns; a longer name puts its help on the next line.
    private static func table(_ rows: [(String, String)]) -> String {
        let width = min(26, (rows.map { $0.0.count }.max() ?? 0) + 2)
        let indent = String(repeating: " ", count: width + 2)
        var text = ""
        for (name, help) in rows {
            let lines = wrapped(help, columns: max(30, 80 - width - 2))
            if name.count + 2 > width {
                text += "  " + name + "\n" + indent + lines[0] + "\n"
            } else {
                text += "  " + name + String(repeating: " ", count: width - name.count) + lines[0] + "\n"
            }
            for line in lines.dropFirst() { text += indent + line + "\n" }
        }
        return text
    }

    /// `text` in lines of at most `columns` characters, broken between words.
    static func wrapped(_ text: String, columns: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > columns {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        lines.append(line)
        return lines
    }
}
