import Agent
import ArgumentParser
import Linux
import Runtime

/// The commands engines call on every container (create, start, run, state, kill,
/// delete), and `agent run`, parsed by hand, because swift-argument-parser's reflection costs about
/// 70% of the instructions of a whole `run` (callgrind; FACTS "Start-up cost").
///
/// It accepts exactly the flags the argument-parser commands declare; anything else
/// (--help, an unknown flag, a missing argument) returns nil and the full parser
/// handles it, with its usage errors and help. `FastPathTests` (Tests/CLITests)
/// checks that both parsers agree.
enum FastPath {
    /// A command line the fast path understood.
    struct Invocation: Equatable {
        var command: String
        var global = GlobalSettings()
        var create = CreateOptions(bundle: ".")
        var detach = false
        var keep = false
        var noSubreaper = false
        var force = false
        var all = false
        var positionals: [String] = []
        /// `agent run`: the sandbox's options and --summary.
        var agent: SandboxRunner.Options?
        var summary = "text"
    }

    private struct Grammar {
        let valued: [String]
        let flags: [String]
        let positionals: ClosedRange<Int>
    }

    // Arrays and a switch, not Set<String> and a dictionary: the first Hashable
    // collection of String a process makes scans every protocol conformance record in
    // the binary (GlobalArguments has the numbers), and these few names are found as
    // fast by a linear search.
    private static let createValued = ["--bundle", "-b", "--pid-file", "--console-socket", "--preserve-fds"]
    private static let createFlags = ["--no-pivot", "--no-new-keyring"]
    private static let globalValued = ["--root", "--log", "--log-format", "--backend", "--criu", "--rootless"]
    private static let globalFlags = ["--debug", "--systemd-cgroup"]

    private static func grammar(of command: String) -> Grammar? {
        switch command {
        case "create": return Grammar(valued: createValued, flags: createFlags, positionals: 1...1)
        case "run": return Grammar(valued: createValued, flags: createFlags + ["--detach", "-d", "--keep", "--no-subreaper"], positionals: 1...1)
        case "start", "state": return Grammar(valued: [], flags: [], positionals: 1...1)
        case "delete": return Grammar(valued: [], flags: ["--force", "-f"], positionals: 1...1)
        case "kill": return Grammar(valued: [], flags: ["--all", "-a"], positionals: 1...2)
        default: return nil
        }
    }

    /// `agent run`'s options that take a value (all of them do; the command follows --).
    private static let agentRunValued = [
        "--policy", "--rootfs", "--input", "--output", "--timeout", "--id", "--summary",
        "--env", "--workdir", "--allow", "--summary-file",
    ]

    /// Parses `args` (without argv[0], globals already moved after the command).
    static func parse(_ args: [String]) -> Invocation? {
        if args.count >= 2, args[0] == "agent", args[1] == "run" { return parseAgentRun(args) }
        guard let command = args.first, let grammar = grammar(of: command) else { return nil }
        var inv = Invocation(command: command)
        var i = 1
        var onlyPositionals = false
        while i < args.count {
            let arg = args[i]
            i += 1
            if onlyPositionals || !arg.hasPrefix("-") || arg == "-" {
                inv.positionals.append(arg)
                continue
            }
            if arg == "--" { onlyPositionals = true; continue }
            var name = arg
            var value: String?
            if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--") {
                name = String(arg[..<eq])
                value = String(arg[arg.index(after: eq)...])
            }
            if grammar.valued.contains(name) || globalValued.contains(name) {
                if value == nil {
                    guard i < args.count else { return nil }
                    value = args[i]
                    i += 1
                }
                guard let v = value, set(name, v, on: &inv) else { return nil }
            } else if (grammar.flags.contains(name) || globalFlags.contains(name)) && value == nil {
                setFlag(name, on: &inv)
            } else {
                return nil
            }
        }
        guard grammar.positionals.contains(inv.positionals.count) else { return nil }
        return inv
    }

    /// `agent run [options] -- COMMAND...`: every option takes a value; the command is
    /// everything after `--` (argument-parser's postTerminator), and there must be no
    /// other positional. --rootfs is required; without it the full parser says so.
    private static func parseAgentRun(_ args: [String]) -> Invocation? {
        var inv = Invocation(command: "agent run")
        var o = SandboxRunner.Options(rootfs: "", args: [])
        var rootfs: String?
        var i = 2
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--" {
                o.args = Array(args[i...])
                break
            }
            guard arg.hasPrefix("--") else { return nil }
            var name = arg
            var value: String?
            if let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                value = String(arg[arg.index(after: eq)...])
            }
            if globalFlags.contains(name) {
                guard value == nil else { return nil }
                setFlag(name, on: &inv)
                continue
            }
            guard agentRunValued.contains(name) || globalValued.contains(name) else { return nil }
            if value == nil {
                // argument-parser does not take a value that looks like an option.
                guard i < args.count, !args[i].hasPrefix("-") || args[i] == "-" else { return nil }
                value = args[i]
                i += 1
            }
            guard let v = value else { return nil }
            switch name {
            case "--policy": o.policy = v
            case "--rootfs": rootfs = v
            case "--input": o.input = v
            case "--output": o.output = v
            case "--timeout": o.timeout = v
            case "--id": o.id = v
            case "--summary": inv.summary = v
            case "--env": o.env.append(v)
            case "--workdir": o.workdir = v
            case "--allow": o.allow.append(v)
            case "--summary-file": o.summaryFile = v
            default: guard set(name, v, on: &inv) else { return nil }
            }
        }
        guard let rootfs else { return nil }
        o.rootfs = rootfs
        inv.agent = o
        return inv
    }

    private static func set(_ name: String, _ value: String, on inv: inout Invocation) -> Bool {
        switch name {
        case "--root": inv.global.root = value
        case "--log": inv.global.log = value
        case "--log-format": inv.global.logFormat = value
        case "--backend": inv.global.backend = value
        case "--criu": inv.global.criu = value
        case "--rootless": inv.global.rootless = value
        case "--bundle", "-b": inv.create.bundle = value
        case "--pid-file": inv.create.pidFile = value
        case "--console-socket": inv.create.consoleSocket = value
        case "--preserve-fds":
            guard let n = Int(value) else { return false }
            inv.create.preserveFds = n
        default: return false
        }
        return true
    }

    private static func setFlag(_ name: String, on inv: inout Invocation) {
        switch name {
        case "--debug": inv.global.debug = true
        case "--systemd-cgroup": inv.global.systemdCgroup = true
        case "--no-pivot": inv.create.noPivot = true
        case "--no-new-keyring": inv.create.noNewKeyring = true
        case "--detach", "-d": inv.detach = true
        case "--keep": inv.keep = true
        case "--no-subreaper": inv.noSubreaper = true
        case "--force", "-f": inv.force = true
        case "--all", "-a": inv.all = true
        default: break
        }
    }

    /// Runs a parsed invocation; returns the process exit status.
    static func execute(_ inv: Invocation) -> Int32 {
        if let agent = inv.agent { AgentRun.execute(inv.global, agent, summary: inv.summary) }
        do {
            let id = inv.positionals[0]
            switch inv.command {
            case "create":
                try inv.global.perform { try $0.create(id: id, options: inv.create) }
            case "run":
                return try inv.global.perform { try $0.run(id: id, options: inv.create, detach: inv.detach, keep: inv.keep, subreaper: !inv.noSubreaper) }
            case "start":
                try inv.global.perform { try $0.start(id: id) }
            case "state":
                let report = try inv.global.perform { try $0.state(id: id) }
                print(report.prettyJSON)
            case "delete":
                try inv.global.perform { try $0.delete(id: id, force: inv.force) }
            case "kill":
                let name = inv.positionals.count > 1 ? inv.positionals[1] : "SIGTERM"
                try inv.global.perform { runtime in
                    guard let signal = Linux.Signal(parsing: name) else {
                        throw RuntimeError("unknown signal \"\(name)\"")
                    }
                    try runtime.kill(id: id, signal: signal, all: inv.all)
                }
            default:
                return 2
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch {
            inv.global.report(error)
            return 1
        }
    }
}
