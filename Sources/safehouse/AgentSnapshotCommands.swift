import Agent
import ContainerCore
import Flags
import Linux
import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension Commands {
    /// `safehouse agent checkpoint ID --to DIR`: a sandbox paused to disk (Agent's
    /// SandboxSnapshots, docs/checkpoint.md).
    static func agentCheckpoint(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        let id = a.arguments[0]
        let directory = a.value("--to")
        guard !directory.isEmpty else { throw UsageError(verb: a.verb.path, "--to: the path is empty") }
        let snapshot = try global.perform { try SandboxSnapshots(runtime: $0).checkpoint(id: id, to: directory) }
        let left = snapshot.timeoutSeconds.map { ", \(Int($0))s left" } ?? ""
        writeStderr("safehouse: sandbox \(id) saved to \(directory) (\(snapshot.backend)\(left)); it is gone\n")
    }

    /// `safehouse agent restore DIR`: a new sandbox restored (forked) from a snapshot.
    static func agentRestore(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        let snapshot = a.arguments[0]
        let timeout = try a.string("--timeout").map { t in
            guard let seconds = Quantity.seconds(t) else {
                throw UsageError(verb: a.verb.path, "--timeout: \"\(t)\" is not a duration (use 30s, 5m, 1h30m, 250ms)")
            }
            return seconds
        }
        let detach = a.isSet("--detach")
        let id = a.string("--id") ?? "agent-" + SandboxRunner.randomID()
        // Held until the sandbox runs, then forwarded to it (as agent run does).
        if !detach { Signals.block(ContainerRuntime.forwardedSignals) }
        let code = try global.perform {
            try SandboxSnapshots(runtime: $0).restore(snapshot, id: id, timeout: timeout, detach: detach,
                                                      pidFile: a.string("--pid-file"), bundle: a.string("--bundle"))
        }
        if detach {
            writeStderr("safehouse: sandbox \(id) restored from \(snapshot)\n")
            return
        }
        if code != 0 { throw ExitCode(code) }
    }
}
