/// Rewrites argv so global flags written before the command name follow it: runc's
/// global flags come before the verb (`runc --root R --log L create ...`), which engines
/// rely on, and the parser reads a verb's flags after its name. Which words are global
/// flags, and which of them take a value, is `Verbs.global`'s declaration.
public enum GlobalArguments {
    public static func movedAfterCommand(_ args: [String]) -> [String] {
        var globals: [String] = []
        var index = 0
        while index < args.count {
            var arg = args[index]
            // urfave/cli (runc) also accepts a single dash: -root, -log.
            if arg.hasPrefix("-") && !arg.hasPrefix("--") && arg.count > 2 { arg = "-" + arg }
            let name = String(arg.split(separator: "=", maxSplits: 1).first ?? "")
            guard let global = Verb.index(in: Verbs.global, where: { $0.name == name }) else { break }
            globals.append(arg)
            if Verbs.global[global].takesValue, !arg.contains("="), index + 1 < args.count {
                globals.append(args[index + 1])
                index += 1
            }
            index += 1
        }
        guard index < args.count, !globals.isEmpty else { return args }
        // `spec --rootless` is spec's own flag (a rootless config); runc's global
        // --rootless VALUE (cgroup permission errors) means nothing to spec: drop it.
        if args[index] == "spec" { globals = Self.withoutRootless(globals) }
        // The command name, then the globals, then the command's own arguments. A
        // command group ("agent run") keeps its subcommand name with it.
        if args[index] == "agent", index + 1 < args.count, !args[index + 1].hasPrefix("-") {
            return [args[index], args[index + 1]] + globals + args[(index + 2)...]
        }
        return [args[index]] + globals + args[(index + 1)...]
    }

    private static func withoutRootless(_ globals: [String]) -> [String] {
        var kept: [String] = []
        var i = 0
        while i < globals.count {
            let arg = globals[i]
            if arg == "--rootless" { i += 2; continue }
            if arg.hasPrefix("--rootless=") { i += 1; continue }
            kept.append(arg)
            i += 1
        }
        return kept
    }
}
