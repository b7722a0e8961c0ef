/// What `run_code` runs for each language: the code goes to the interpreter on its
/// standard input (nothing is written into the sandbox), and the interpreter is looked
/// up in the sandbox's image first, so a language the image lacks is a clear tool error
/// rather than a shell's "not found" mixed into the program's output.
struct Language {
    let name: String
    /// Interpreters tried in order, each with the arguments that make it read a program
    /// from standard input.
    let interpreters: [(command: String, arguments: [String])]

    static let all: [Language] = [
        Language(name: "python", interpreters: [("python3", ["-"]), ("python", ["-"])]),
        Language(name: "shell", interpreters: [("sh", ["-s"])]),
        Language(name: "bash", interpreters: [("bash", ["-s"])]),
        Language(name: "javascript", interpreters: [("node", ["-"])]),
    ]

    /// Other names a model may use for a language.
    static let aliases = ["python3": "python", "py": "python", "sh": "shell", "js": "javascript", "node": "javascript"]

    static var names: [String] { all.map(\.name) }

    static func named(_ name: String) -> Language? {
        let key = name.lowercased()
        let canonical = aliases[key] ?? key
        return all.first { $0.name == canonical }
    }

    /// The exit status and the one line of stderr of the lookup when no interpreter is
    /// there; `run_code` turns exactly that pair into a tool error.
    static let missingStatus: Int32 = 127
    var missingLine: String { "safehouse-mcp: no interpreter for \(name)" }

    /// The argv: `/bin/sh -c` finds the first interpreter on the image's PATH and execs it
    /// (so the code's own exit status and signals are the command's), else says so.
    var argv: [String] {
        var script = ""
        for (command, arguments) in interpreters {
            script += "command -v \(command) >/dev/null 2>&1 && exec \(command) \(arguments.joined(separator: " "))\n"
        }
        script += "echo '\(missingLine)' >&2\nexit \(Self.missingStatus)\n"
        return ["/bin/sh", "-c", script]
    }
}
