import Agent
import ArgumentParser
import FoundationEssentials
import Linux
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `safehouse agent spec|run|stop-all`: the agent sandbox (Sources/Agent).
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run untrusted agent code in a sandbox made from a short policy.",
        subcommands: [AgentSpec.self, AgentRun.self, AgentStopAll.self])
}

/// The flags `agent spec` and `agent run` share.
struct SandboxFlags: ParsableArguments {
    @Option(help: "A profile name (\(Profiles.names.joined(separator: ", "))), a policy in the policy directory, or a policy file (YAML or JSON), laid over the default profile.")
    var policy: String = "default"
    @Option(help: "The image's root filesystem (the read-only lower layer).")
    var rootfs: String
    @Option(help: "Host directory mounted read-only at /input.")
    var input: String?
    @Option(help: "Host directory mounted read-write at /output (made if missing).")
    var output: String?
    @Option(help: "Wall-clock limit (30s, 5m, 1h30m; at most 576h), replacing the policy's.")
    var timeout: String?
    @Option(help: "KEY=VALUE added to the command's environment, replacing the policy's KEY (repeatable).")
    var env: [String] = []
    @Option(help: "The command's working directory inside the sandbox, replacing the policy's.")
    var workdir: String?
    @Option(help: "A destination added to the policy's network.allow: host, *.domain, host:port, address or CIDR (repeatable).")
    var allow: [String] = []
    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    func options() -> SandboxRunner.Options {
        var o = SandboxRunner.Options(rootfs: rootfs, args: command)
        o.policy = policy
        o.input = input
        o.output = output
        o.timeout = timeout
        o.env = env
        o.workdir = workdir
        o.allow = allow
        return o
    }
}

struct AgentSpec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec",
        abstract: "Print the OCI config.json for a sandbox (any OCI runtime can run it).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: SandboxFlags
    @Flag(help: "Add OCI hooks (createRuntime, poststart, poststop) that write the sandbox's audit records, so runc or crun running the spec keeps its audit trail.")
    var hooks = false

    func run() throws {
        do {
            var o = flags.options()
            // The global --backend (native or gvisor) replaces the policy's; gvisor adds
            // the io.safehouse.backend annotation.
            o.backend = global.backend
            let policy = try SandboxRunner.effectivePolicy(o, library: try PolicyLibrary.configured(root: global.root))
            var request = SandboxRunner.request(o)
            request.auditByHooks = hooks
            var spec = try SandboxSpec.generate(policy, request)
            if hooks {
                guard let exe = AuditSink.executable else { agentFail("--hooks: no safehouse-audit next to safehouse") }
                func hook(_ stage: String) -> [Hook] { [Hook(path: exe, args: ["safehouse-audit", "hook", stage])] }
                spec.hooks = Hooks(createRuntime: hook("createRuntime"), poststart: hook("poststart"), poststop: hook("poststop"))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(spec), as: UTF8.self))
            // safehouse makes missing mount points in the ephemeral root; another
            // runtime, as an unmapped root in a user namespace, cannot.
            let rootfs = spec.root?.path ?? ""
            let missing = (spec.mounts ?? []).map(\.destination).filter { !Files.exists(rootfs + $0) }
            if !missing.isEmpty {
                writeStderr("safehouse: note: \(rootfs) has no \(missing.joined(separator: ", ")): fine for safehouse, but another runtime needs the mount points in the image\n")
            }
        } catch {
            agentFail("\(error)")
        }
    }
}

struct AgentRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a sandbox and remove the sandbox; exit with the command's code.",
        discussion: """
        The command's stdout and stderr are streamed; a summary (duration, exit, limits \
        hit, the root filesystem's change set) goes to stderr. Exit codes: the command's, \
        124 when the timeout killed it, 137 when it was killed (OOM, emergency stop).
        """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var flags: SandboxFlags
    @Option(help: "The sandbox's container id (default: agent-<random>).")
    var id: String?
    @Option(help: "Summary on stderr: text, json or none.")
    var summary: String = "text"
    @Option(name: .customLong("summary-file"), help: "Write the summary to this file (made or truncated) instead of stderr.")
    var summaryFile: String?

    func run() throws {
        var o = flags.options()
        o.id = id
        o.summaryFile = summaryFile
        AgentRun.execute(global.settings, o, summary: summary)
    }

    /// The body of `agent run`, shared with the fast path (FastPath.swift): runs the
    /// sandbox, writes the summary and exits with the command's code.
    static func execute(_ settings: GlobalSettings, _ options: SandboxRunner.Options, summary: String) -> Never {
        guard let format = SandboxRunner.SummaryFormat(rawValue: summary) else {
            agentFail("--summary: \"\(summary)\" is not one of text, json, none")
        }
        var o = options
        o.summary = format
        // `agent run --backend` is the global flag (runc's global flags may follow the
        // command): it replaces the policy's backend.
        o.backend = settings.backend
        // Checked before the sandbox runs: a summary with nowhere to go fails first.
        if let path = o.summaryFile { SummaryFile.check(path) }
        let result: (Int32, SandboxRunner.Outcome)
        do {
            let runtime = try settings.runtime()
            let batch = AuditBatch()
            runtime.audit = batch.record
            defer { batch.flush() }
            result = try SandboxRunner(runtime: runtime).run(o, library: try PolicyLibrary.configured(root: settings.root))
        } catch {
            agentFail("\(error)")
        }
        let (code, outcome) = result
        let text: String
        switch format {
        case .text: text = SummaryText.text(outcome)
        case .json: text = SummaryText.json(outcome) + "\n"
        case .none: text = ""
        }
        if let path = o.summaryFile {
            if format != .none { SummaryFile.write(text, to: path) }
        } else {
            writeStderr(text)
        }
        fflush(nil)
        Glibc.exit(code)
    }
}

struct AgentStopAll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop-all",
        abstract: "Emergency stop: kill every sandbox under the root at once (cgroup-wide SIGKILL).")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        do {
            let runtime = try global.settings.runtime()
            let ids = runtime.emergencyStop { $0.annotations?[SandboxAnnotation.policy] != nil }
            for id in ids { print(id) }
            writeStderr("safehouse: stopped \(ids.count) sandbox\(ids.count == 1 ? "" : "es")\n")
        } catch {
            agentFail("\(error)")
        }
    }
}

/// The summary `agent run` writes on stderr.
enum SummaryText {
    /// `value` with `digits` decimals (no Foundation for String(format:)).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = Int64((value * scale).rounded())
        let whole = n / Int64(scale), frac = String(n % Int64(scale))
        return "\(whole)." + String(repeating: "0", count: digits - frac.count) + frac
    }

    static func text(_ o: SandboxRunner.Outcome) -> String {
        // Paths, hosts and reasons come from the sandbox: escaped (TerminalText), so a
        // file name cannot forge a summary line or drive the terminal.
        let e = TerminalText.escaped
        var lines = [
            "safehouse: sandbox \(o.id) (policy \(e(o.policy))): exit \(o.exitCode) after \(fixed(o.seconds, 2))s",
            "safehouse: effective policy: \(e(o.effective.effectiveLine))",
            "safehouse: limits hit: \(o.limitsHit.isEmpty ? "none" : o.limitsHit.joined(separator: ", "))",
            "safehouse: root changes: \(o.changes.count(.created)) created, \(o.changes.count(.modified)) modified, "
                + "\(o.changes.count(.deleted)) deleted (\(o.changes.bytes) bytes, discarded)",
        ]
        lines += o.changes.lines.prefix(50).map { "safehouse:   " + e($0) }
        if o.changes.entries.count > 50 { lines.append("safehouse:   ... \(o.changes.entries.count - 50) more") }
        if !o.egress.isEmpty {
            let records = o.egress.compactMap { FlatJSONObject(parsing: Array($0.utf8)) }
            let allowed = records.filter { $0.string("decision") == "allowed" }.count
            lines.append("safehouse: egress: \(allowed) allowed, \(records.count - allowed) refused or failed")
            for r in records.filter({ $0.string("decision") != "allowed" }).prefix(20) {
                lines.append("safehouse:   \(e(r.string("host") ?? "?")):\(r.uint64("port") ?? 0): \(e(r.string("reason") ?? ""))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ o: SandboxRunner.Outcome) -> String {
        func q(_ s: String) -> String { FlatJSONWriter.quoted(s) }
        let entries = o.changes.entries.map { "{\"path\":\(q($0.path)),\"kind\":\"\($0.kind.rawValue)\",\"size\":\($0.size)}" }
        var text = "{\"id\":\(q(o.id)),\"policy\":\(q(o.policy)),\"effectivePolicy\":\(o.effective.effectiveJSON),\"exitCode\":\(o.exitCode),"
        text += "\"durationSeconds\":\(fixed(o.seconds, 3)),"
        text += "\"limitsHit\":[\(o.limitsHit.map(q).joined(separator: ","))],"
        text += "\"changes\":[\(entries.joined(separator: ","))],"
        text += "\"egress\":[\(o.egress.joined(separator: ","))]}"
        return text
    }
}

func writeStderr(_ text: String) {
    _ = text.withCString { write(2, $0, strlen($0)) }
}

func agentFail(_ message: String) -> Never {
    writeStderr("safehouse: \(message)\n")
    Glibc.exit(1)
}

/// `safehouse audit ...` and `safehouse hook ...`, listed for --help: main.swift hands
/// both to the safehouse-audit executable before any parsing.
struct AuditHelp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "A sandbox's audit log: verify FILE [--key FILE], show ID|FILE [--kind K] [--format text|json] [--follow].")
}

struct HookHelp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "OCI hook entry point (createRuntime, poststart, poststop) that writes a sandbox's audit records.")
}

/// `agent run --summary-file PATH`: the summary goes to a file instead of stderr.
enum SummaryFile {
    /// Fails (one line, exit 1) before the sandbox runs when PATH cannot be a summary
    /// file: an empty path, a directory, or a parent directory that is missing.
    static func check(_ path: String) {
        guard !path.isEmpty else { agentFail("--summary-file: the path is empty") }
        if Files.isDirectory(path) { agentFail("--summary-file: \(path) is a directory") }
        let parent = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) : "."
        guard Files.isDirectory(parent.isEmpty ? "/" : parent) else {
            agentFail("--summary-file: \(parent.isEmpty ? "/" : parent) is not a directory")
        }
    }

    /// Writes the summary; a failure here is reported, and the command's exit code
    /// stands (the sandbox has run; its summary is what was lost).
    static func write(_ text: String, to path: String) {
        do {
            // O_NOFOLLOW: the file is made or truncated, never a link's target.
            let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NOCTTY, mode: 0o644)
            try fd.write(text)
        } catch {
            writeStderr("safehouse: --summary-file: \(error)\n")
        }
    }
}
