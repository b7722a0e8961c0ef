import ContainerCore
import Cgroups
import FoundationEssentials
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// gVisor's engine: `runsc`, under `<root>/@runsc`, runs the container in a user-space
/// kernel; safehouse keeps its own record (which runsc binary, which sandbox flags)
/// and the agent treatment around the sandbox. The verbs that act on an existing
/// container are here: each runs the matching runsc command with the sandbox's
/// recorded flags and maps its state and errors to runc's (RunscError). `create` and
/// `run` are in `GvisorBackend+Create.swift` and `GvisorBackend+Run.swift`.
struct GvisorBackend: ContainerBackend {
    let runtime: ContainerRuntime

    var store: StateStore { runtime.store }
    var log: RuntimeLog { runtime.log }

    /// runsc's view of the container: its status and the sandbox pid. A container
    /// runsc does not know (its create died, or its foreground `run` ended) is stopped.
    func state(of record: ContainerRecord) -> (status: ContainerStatus, pid: Int32) {
        guard let result = try? runsc(record, ["state", record.id]).capture(), result.status == .exited(0) else {
            return (.stopped, 0)
        }
        return Self.parseRunscState(result.stdout)
    }

    /// runsc's state document (runc's shape: status, pid; -1 when stopped).
    static func parseRunscState(_ text: String) -> (status: ContainerStatus, pid: Int32) {
        guard let o = FlatJSONObject(parsing: Array(text.utf8)),
              let status = o.string("status").flatMap(ContainerStatus.init(rawValue:)) else { return (.stopped, 0) }
        let pid = Int32(truncatingIfNeeded: o.int64("pid") ?? 0)
        return status == .stopped ? (.stopped, 0) : (status, max(pid, 0))
    }

    func start(_ record: ContainerRecord, justCreated: Bool) throws {
        try state(of: record).status.canStart()
        try startSandbox(record)
    }

    func kill(_ record: ContainerRecord, signal: Signal, all: Bool) throws {
        let current = state(of: record).status
        runtime.recordAudit(record.annotations, record.id, "kill", ["signal": .int(Int64(signal.rawValue)), "all": .string(all ? "true" : "false"),
                                                                    "status": .string(current.rawValue)])
        // As runc (and native): --all of a stopped container succeeds; containerd's
        // shim sends it after every exit.
        try current.canKill(record.id, all: all)
        if current == .stopped { return }
        // Signal 0 probes (kill(2)); runsc refuses it as a signal. The state says it.
        if signal.rawValue == 0 { return }
        if current == .paused && signal == .kill {
            // runsc refuses to signal a paused container; runc sends SIGKILL and
            // thaws, so that it dies now. runsc must resume before it can kill (the
            // process runs for the moment between the two).
            let resumed = try runsc(record, ["resume", record.id]).capture()
            guard resumed.status == .exited(0) else {
                throw RunscError.message(verb: "resume", id: record.id, runscText: resumed.stderr)
            }
        }
        if current == .created {
            // runsc refuses to signal a container that has not started; runc's kill
            // of a created container ends it (its init dies blocked on the exec FIFO).
            // The same here: the sandbox process goes, and with it the container.
            try Processes.signal(record.pid, .kill)
            _ = Processes.waitForExit(record.pid, timeout: 10)
            return
        }
        let result = try runsc(record, ["kill"] + (all ? ["--all"] : []) + [record.id, String(signal.rawValue)]).capture()
        guard result.status == .exited(0) else {
            throw RunscError.message(verb: "kill", id: record.id, runscText: result.stderr)
        }
    }

    func delete(_ record: ContainerRecord, force: Bool) throws {
        let current = state(of: record).status
        try current.canDelete(record.id, force: force)
        // runsc's delete --force of a paused sandbox fails (its kill cannot reach a
        // stopped sentry): resume it first, as runc thaws before it kills.
        if current == .paused {
            let result = try runsc(record, ["resume", record.id]).capture()
            guard result.status == .exited(0) else {
                throw RunscError.message(verb: "resume", id: record.id, runscText: result.stderr)
            }
        }
        runtime.recordEnd(record)
        try destroy(record)
        runtime.recordAudit(record.annotations, record.id, "delete", ["force": .string(force ? "true" : "false")])
    }

    func pause(_ record: ContainerRecord, _ pause: Bool) throws {
        let current = state(of: record).status
        if pause { try current.canPause(record.id) } else { try current.canResume(record.id) }
        let verb = pause ? "pause" : "resume"
        let result = try runsc(record, [verb, record.id]).capture()
        guard result.status == .exited(0) else {
            throw RunscError.message(verb: verb, id: record.id, runscText: result.stderr)
        }
        runtime.recordAudit(record.annotations, record.id, verb, [:])
    }

    /// `update`: this runsc has no update command. runsc applies a spec's resources to
    /// the sandbox's cgroups at create (sentry, gofer and the container together), so
    /// safehouse changes the same files, with the same conversions as native; a
    /// sandbox without cgroups of its own (no cgroupsPath, a foreground run) refuses.
    func update(_ record: ContainerRecord, resources: LinuxResources) throws {
        try state(of: record).status.canUpdate(record.id)
        guard !record.cgroupPaths.isEmpty else {
            throw RuntimeError("update \(record.id): the gvisor sandbox has no cgroups of its own (runsc left it in its caller's): nothing to update")
        }
        do {
            try GvisorCgroups.manager(for: record.cgroupPaths).apply(resources: resources, includeRuncDefaultDevices: false)
        } catch {
            throw RuntimeError("update \(record.id): \(error)")
        }
    }

    /// `exec`: the process is built as native builds it (the container's process and
    /// runc's flags, ExecOptions) and handed to `runsc exec --process`, so runc's exec
    /// flags mean what they mean under runc, whatever runsc's own exec flags are.
    func exec(_ record: ContainerRecord, options: ExecOptions) throws -> Int32 {
        // Every process of a gvisor sandbox lives in runsc's cgroup: none can be
        // placed in a sub-cgroup of it from here.
        if !options.subCgroups.isEmpty {
            throw RuntimeError("--cgroup: not supported by the gvisor backend (the sandbox's processes share its cgroup)")
        }
        // A frozen sandbox cannot start the process: no --ignore-paused here.
        try state(of: record).status.canExec(ignorePaused: nil)
        if options.preserveFds != 0 { throw RuntimeError("--preserve-fds: not supported by the gvisor backend (runsc exec cannot pass extra descriptors)") }
        let config = try store.loadConfig(record.id)
        let process = try options.process(base: config.process)
        try SecurityLabels.check(process: process, field: options.processFile == nil ? "process" : "--process")
        runtime.recordAudit(record.annotations, record.id, "exec", ["args": .json(jsonArray(process.args ?? [])),
                                                                    "cwd": .string(process.cwd), "detach": .string(options.detach ? "true" : "false")])
        if process.terminal ?? false, options.consoleSocket == nil, options.detach {
            throw RuntimeError("cannot allocate a terminal for a detached exec without --console-socket")
        }
        let file = store.directory(of: record.id) + "/exec-\(getpid()).json"
        try Files.writeAtomically(file, Array(try JSONEncoder().encode(process)), mode: 0o600)
        defer { try? Files.remove(file) }
        var args = ["exec", "--process", file]
        if options.detach { args.append("--detach") }
        if let pidFile = options.pidFile { args += ["--pid-file", Bundle.absolute(pidFile)] }
        if let socket = options.consoleSocket { args += ["--console-socket", socket] }
        args.append(record.id)
        // Attached: our stdio is the process's, our exit code its; signals to us go
        // to runsc exec, which passes them to the process.
        let waited = ContainerRuntime.forwardedSignals + [SIGCHLD]
        Signals.block(waited)
        let child = try runsc(record, args).spawn()
        let status = runtime.waitForInit(child, forwarding: waited)
        return status.shellCode
    }

    /// The host pids of a gvisor container: the sandbox and what runsc put in its
    /// cgroups (what runc's `ps --format json` lists: pids the host can signal).
    func processIDs(of record: ContainerRecord) throws -> [Int32] {
        let (status, pid) = state(of: record)
        guard status != .stopped, pid > 0 else { return [] }
        var live = record
        live.pid = pid
        return live.processes().filter { Processes.isAlive($0) }
    }

    /// `events` (and `events --stats`): runsc's own, which are in runc's shape and
    /// count what runs inside the sandbox. Replaces this process.
    func delegateEvents(of record: ContainerRecord, stats: Bool, interval: String) throws -> Bool {
        guard let seconds = RunscFlags.intervalSeconds(interval) else {
            throw RuntimeError("--interval: \"\(interval)\" is not a positive number of seconds")
        }
        throw runsc(record, ["events"] + (stats ? ["--stats"] : ["--interval", String(seconds)]) + [record.id]).replace()
    }

    /// `ps` (table): runsc's list of the processes inside the sandbox (the host's `ps`
    /// would show only runsc's own processes), whatever the `ps` arguments.
    func processTable(of record: ContainerRecord, psArguments: [String]) throws -> String {
        let result = try runsc(record, ["ps", record.id]).capture()
        guard result.status == .exited(0) else {
            throw RunscError.message(verb: "ps", id: record.id, runscText: result.stderr)
        }
        return result.stdout.hasSuffix("\n") ? String(result.stdout.dropLast()) : result.stdout
    }
}
