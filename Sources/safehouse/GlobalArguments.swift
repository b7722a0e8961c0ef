/// Rewrites argv so global flags written before the command name follow it.
enum GlobalArguments {
    /// Global options that take a value, and global flags that take none (runc's set).
    /// Arrays, not Set<String>: each first lookup of a generic requirement (here
    /// String: Hashable for the Set's storage) scans every protocol conformance record
    /// of the static binary, about 100 K instructions. Later code (the JSON tree, the
    /// capability table) still needs String: Hashable, so this saves one scan of the
    /// five, not all: 2.58 M -> 2.51 M instructions in a `run`'s parent.
    static let valued = ["--root", "--log", "--log-format", "--criu", "--rootless", "--backend"]
    static let flags = ["--debug", "--systemd-cgroup"]

    static func movedAfterCommand(_ args: [String]) -> [String] {
        var globals: [String] = []
        var index = 0
        while index < args.count {
            var arg = args[index]
            // urfave/cli (runc) also accepts a single dash: -root, -log.
            if arg.hasPrefix("-") && !arg.hasPrefix("--") && arg.count > 2 { arg = "-" + arg }
            let name = String(arg.split(separator: "=", maxSplits: 1).first ?? "")
            if valued.contains(name) {
                globals.append(arg)
                if !arg.contains("="), index + 1 < args.count {
                    globals.append(args[index + 1])
                    index += 1
                }
            } else if flags.contains(name) {
                globals.append(arg)
            } else {
                break
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
