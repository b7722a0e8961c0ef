import Flags
#if canImport(Glibc)
import Glibc
#endif

// Entry point. runc's global flags come before the command name (`runc --root R
// --log L create ...`), which engines rely on; the parser reads a verb's flags after
// its name, so global flags found before the command are moved after it. Every verb is
// then parsed by the one table-driven parser (Sources/Flags), not swift-argument-parser,
// whose reflection costs about 70% of the instructions of a whole `run` (callgrind;
// docs/design.md, "Command line").
let arguments = GlobalArguments.movedAfterCommand(Array(CommandLine.arguments.dropFirst()))

/// A usage error: one line on stderr, exit 1 (runc, urfave/cli, exits 1 on one).
func usageFailure(_ error: UsageError) -> Never {
    writeStderr("\(error)\n")
    exit(1)
}

let first = arguments.first ?? "--help"

// runc's `-v` (and `--version` after global flags) print the version, as urfave/cli
// does, wherever the global flags put it.
if first == "-v" || first == "--version" {
    print(BuildInfo.versionText)
    exit(0)
}
if first == "-h" || first == "--help" {
    print(HelpText.root(), terminator: "")
    exit(0)
}

// An unknown command fails, with `-h` too: a script probing for a verb (`safehouse
// checkpoint -h`) must not take the top-level help for support. runc exits 3 here
// ("No help topic").
if !first.hasPrefix("-"), !Verbs.isCommandName(first) {
    writeStderr("safehouse: unknown command \"\(first)\" (see safehouse --help)\n")
    exit(3)
}

// `safehouse help [VERB...]` (or runc's alias `h`), and `safehouse help --markdown`:
// docs/cli.md's reference (hack/gen-cli-docs).
if first == "help" || first == "h" {
    let rest = Array(arguments.dropFirst())
    if rest == ["--markdown"] {
        print(Reference.markdown(), terminator: "")
    } else if let found = CommandLineParser.verb(in: rest) {
        print(HelpText.verb(found.verb), terminator: "")
    } else if let group = rest.first.flatMap(Verbs.group(named:)), rest.count == 1 {
        print(HelpText.group(group), terminator: "")
    } else if rest.isEmpty {
        print(HelpText.root(), terminator: "")
    } else {
        // Exit 3, as runc's "No help topic" (and an unknown verb with -h above).
        writeStderr("\(UsageError(verb: "help", "no help for \"\(rest.joined(separator: " "))\""))\n")
        exit(3)
    }
    exit(0)
}

// `safehouse audit ...` and `safehouse hook ...` belong to the audit executable
// (Sources/safehouse-audit): it links Crypto, which the runtime binary must not.
if first == "audit" || first == "hook" {
    AuditSink.execAuditCommand(arguments)
}

// `safehouse serve ...` belongs to the service executable (Sources/safehouse-serve) and
// `safehouse mcp ...` to the MCP server (Sources/safehouse-mcp): they link SwiftNIO,
// Foundation and the MCP SDK, which the runtime binary must not.
if first == "serve" {
    SiblingCommand.exec("safehouse-serve", verb: Verbs.serve, arguments)
}
if first == "mcp" {
    SiblingCommand.exec("safehouse-mcp", verb: Verbs.mcp, arguments)
}

guard let (verb, next) = CommandLineParser.verb(in: arguments) else {
    // A group alone or with --help (`safehouse agent`) prints its verbs.
    if let group = Verbs.group(named: first), arguments.count == 1 || arguments[1] == "-h" || arguments[1] == "--help" {
        print(HelpText.group(group), terminator: "")
        exit(0)
    }
    if let group = Verbs.group(named: first) {
        usageFailure(UsageError(verb: group, "unknown command \"\(arguments[1])\""))
    }
    usageFailure(UsageError(verb: "", "unknown flag \"\(first)\""))
}

do {
    let parsed = try CommandLineParser.parse(arguments, from: next, as: verb)
    if parsed.helpRequested {
        print(HelpText.verb(verb), terminator: "")
        exit(0)
    }
    try Commands.run(parsed)
    fflush(nil)
    exit(0)
} catch let status as ExitCode {
    fflush(nil)
    exit(status.rawValue)
} catch let error as UsageError {
    usageFailure(error)
} catch {
    fflush(nil)
    writeStderr("safehouse: \(error)\n")
    exit(1)
}
