import Agent
import ContainerCore
import Flags
import Linux
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `safehouse agent checkpoint ID --to DIR` and `agent restore DIR`: a sandbox paused
/// to disk and restored (forked) from it (Agent's SandboxSnapshots, docs/checkpoint.md).
struct AgentCheckpoint: Command {
    let global: GlobalSettings
    let id: String
    let directory: String

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        id = a.arguments[0]
        directory = a.value("--to")
        guard !directory.isEmpty else { throw UsageError(verb: a.verb.path, "--to: the path is empty") }
    }

    func run() throws {
        let snapshot = try global.perform { try SandboxSnapshots(runtime: $0).checkpoint(id: id, to: directory) }
        let left = snapshot.timeoutSeconds.map { ", \(Int($0))s left" } ?? ""
        writeStderr("safehouse: sandbox \(id) saved to \(directory) (\(snapshot.backend)\(left)); it is gone\n")
    }
}

struct AgentRestore: Command {
    let global: GlobalSettings
    let snapshot: String
    let id: String?
    let timeout: Double?
    let detach: Bool
    let pidFile: String?
    let bundle: String?

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        snapshot = a.arguments[0]
        id = a.string("--id")
        if let t = a.string("--timeout") {
            guard let seconds = Quantity.seconds(t) else {
                throw UsageError(verb: a.verb.path, "--timeout: \"\(t)\" is not a duration (use 30s, 5m, 1h30m, 250ms)")
            }
            timeout = seconds
        } else {
            timeout = nil
        }
        detach = a.isSet("--detach")
        pidFile = a.string("--pid-file")
        bundle = a.string("--bundle")
    }

    func run() throws {
        let id = self.id ?? "agent-" + SandboxRunner.randomID()
        // Held until the sandbox runs, then forwarded to it (as agent run does).
        if !detach { Signals.block(ContainerRuntime.forwardedSignals) }
        let code = try global.perform {
            try SandboxSnapshots(runtime: $0).restore(snapshot, id: id, timeout: timeout, detach: detach, pidFile: pidFile, bundle: bundle)
        }
        if detach {
            writeStderr("safehouse: sandbox \(id) restored from \(snapshot)\n")
            return
        }
        if code != 0 { throw ExitCode(code) }
    }
}
