// Entry point. runc's global flags come before the command name (`runc --root R
// --log L create ...`), which engines rely on; swift-argument-parser wants a
// subcommand's options after its name. So global flags found before the command are
// moved after it, then the normal parser runs.
Safehouse.main(GlobalArguments.movedAfterCommand(Array(CommandLine.arguments.dropFirst())))
