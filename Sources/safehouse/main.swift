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
Safehouse.main(arguments)
