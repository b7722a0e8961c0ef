import Agent
import Flags
import Images
import FoundationEssentials
import Linux
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `safehouse agent spec|run|stop-all`: the agent sandbox (Sources/Agent).
extension SandboxRunner.Options {
    /// The flags `agent spec` and `agent run` share (Verbs.sandboxFlags), and the
    /// command after `--`.
    init(_ a: ParsedArguments) {
        self.init(rootfs: a.value("--rootfs"), args: a.trailing)
        policy = a.value("--policy")
        input = a.string("--input")
        output = a.string("--output")
        timeout = a.string("--timeout")
        env = a.strings("--env")
        workdir = a.string("--workdir")
        allow = a.strings("--allow")
    }
}

struct AgentSpec {
    let global: GlobalSettings
    let options: SandboxRunner.Options
    let hooks: Bool
    let image: String?

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        options = SandboxRunner.Options(a)
        hooks = a.isSet("--hooks")
        image = a.string("--image")
    }

    func run() throws {
        orFail {
            var o = options
            // The global --backend (native or gvisor) replaces the policy's; gvisor adds
            // the io.safehouse.backend annotation.
            o.backend = global.backend
            var policy = try SandboxRunner.effectivePolicy(o, library: try PolicyLibrary.configured(root: global.root))
            var request = SandboxRunner.request(o)
            request.auditByHooks = hooks
            if let ref = image {
                // The spec agent run --image would make, over a root the caller mounts at --rootfs.
                let record = try ImageFetch(store: try ImageStore.configured()).resolve(try ImageReference.parse(ref, cwd: SandboxRunner.absolute(".")))
                request.args = ImageDefaults.command(record.config, args: o.args)
                request.baseEnv = record.config.env ?? []
                try ImageDefaults.apply(record.config, to: &policy, &request, workdirFlag: o.workdir, rootfs: request.rootfs)
            }
            var spec = try SandboxSpec.generate(policy, request)
            if hooks {
                guard let exe = AuditSink.executable else { agentFail("--hooks: no safehouse-audit next to safehouse") }
                func hook(_ stage: String) -> [Hook] { [Hook(path: exe, args: ["safehouse-audit", "hook", stage])] }
                spec.hooks = Hooks(createRuntime: hook("createRuntime"), poststart: hook("poststart"), poststop: hook("poststop"))
            }
            print(String(decoding: spec.encodedJSON(), as: UTF8.self))
            // safehouse makes missing mount points in the ephemeral root; another
            // runtime, as an unmapped root in a user namespace, cannot.
            let rootfs = spec.root?.path ?? ""
            let missing = (spec.mounts ?? []).map(\.destination).filter { !Files.exists(rootfs + $0) }
            if !missing.isEmpty {
                writeStderr("safehouse: note: \(rootfs) has no \(missing.joined(separator: ", ")): fine for safehouse, but another runtime needs the mount points in the image\n")
            }
        }
    }
}

struct AgentRun {
    let global: GlobalSettings
    let options: SandboxRunner.Options
    let summary: String

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        var o = SandboxRunner.Options(a)
        o.image = a.string("--image")
        o.keep = a.isSet("--keep")
        guard !o.rootfs.isEmpty || o.image != nil else { throw CLIError("agent run: --rootfs or --image is required") }
        o.id = a.string("--id")
        o.summaryFile = a.string("--summary-file")
        options = o
        summary = a.value("--summary")
    }

    /// Runs the sandbox, writes the summary and exits with the command's code.
    func run() -> Never {
        guard let format = SandboxRunner.SummaryFormat(rawValue: summary) else {
            agentFail("--summary: \"\(summary)\" is not one of text, json, none")
        }
        var o = options
        o.summary = format
        // `agent run --backend` is the global flag (runc's global flags may follow the
        // command): it replaces the policy's backend.
        o.backend = global.backend
        // Checked before the sandbox runs: a summary with nowhere to go fails first.
        if let path = o.summaryFile { SummaryFile.check(path) }
        let (code, outcome) = orFail {
            let runtime = try global.runtime()
            let batch = AuditBatch()
            runtime.observer = batch
            defer { batch.flush() }
            return try SandboxRunner(runtime: runtime).run(o, library: try PolicyLibrary.configured(root: global.root))
        }
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

extension Commands {
    /// `agent stop-all`: every sandbox under the root stopped at once; their ids printed.
    static func agentStopAll(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        let ids = orFail { try global.runtime().emergencyStop { $0.annotations?[SandboxAnnotation.policy] != nil } }
        for id in ids { print(id) }
        writeStderr("safehouse: stopped \(ids.count) sandbox\(ids.count == 1 ? "" : "es")\n")
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
                + "\(o.changes.count(.deleted)) deleted (\(o.changes.bytes) bytes, "
                + (o.keptFor.map { "kept for agent commit \($0) NAME" } ?? "discarded") + ")",
        ]
        lines += o.changes.lines.prefix(50).map { "safehouse:   " + e($0) }
        if o.changes.entries.count > 50 { lines.append("safehouse:   ... \(o.changes.entries.count - 50) more") }
        if !o.egress.isEmpty {
            let records = o.egress.compactMap { FlatJSONObject(parsing: Array($0.utf8)) }
            let allowed = records.filter { $0.string("decision") == "allowed" }.count
            lines.append("safehouse: egress: \(allowed) allowed, \(records.count - allowed) refused or failed")
            // Refusals, and what the decider let through (its yes is no rule of the policy's).
            for r in records.filter({ $0.string("decision") != "allowed" || $0.string("decider") == "allow" }).prefix(20) {
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
        text += "\"egress\":[\(o.egress.joined(separator: ","))]"
        // `--keep`: the id `agent commit` takes.
        if let kept = o.keptFor { text += ",\"kept\":\(q(kept))" }
        text += "}"
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

/// What `body` returns; a failure is `agentFail`'s line, after `prefix`.
func orFail<T>(_ prefix: String = "", _ body: () throws -> T) -> T {
    do { return try body() } catch { agentFail(prefix + "\(error)") }
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
