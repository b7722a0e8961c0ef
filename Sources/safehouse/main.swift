#if canImport(Glibc)
import Glibc
#endif

// Entry point. runc's global flags come before the command name (`runc --root R
// --log L create ...`), which engines rely on; swift-argument-parser wants a
// subcommand's options after its name. So global flags found before the command are
// moved after it. The everyday lifecycle commands then take the fast path
// (FastPath.swift); everything else, and anything it does not recognise, goes to
// the full parser.
let arguments = GlobalArguments.movedAfterCommand(Array(CommandLine.arguments.dropFirst()))
if let invocation = FastPath.parse(arguments) {
    let status = FastPath.execute(invocation)
    fflush(nil)
    exit(status)
}

// runc's `-v` (and `--version` after global flags) print the version, as urfave/cli
// does, wherever the global flags put it.
if let first = arguments.first, first == "-v" || first == "--version" {
    print(BuildInfo.versionText)
    exit(0)
}

// An unknown command fails, with `-h` too: argument-parser would print the top-level
// help and exit 0, and a script probing for a verb (`safehouse checkpoint -h`) would
// take that as support. runc exits 3 here ("No help topic").
if let first = arguments.first, !first.hasPrefix("-"), !Safehouse.commandNames.contains(first) {
    let line = "safehouse: unknown command \"\(first)\" (see safehouse --help)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(3)
}

// `safehouse audit ...` and `safehouse hook ...` belong to the audit executable
// (Sources/safehouse-audit): it links Crypto, which the runtime binary must not.
if let command = arguments.first, command == "audit" || command == "hook" {
    AuditSink.execAuditCommand(arguments)
}

// runc (urfave/cli) exits 1 on a usage error; argument-parser's 64 would surprise
// engines and scripts, so usage errors are reported the same way but exit 1.
do {
    var command = try Safehouse.parseAsRoot(arguments)
    try command.run()
} catch {
    let code = Safehouse.exitCode(for: error)
    if code.rawValue == 64 {
        let line = Safehouse.fullMessage(for: error) + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(1)
    }
    Safehouse.exit(withError: error)
}
