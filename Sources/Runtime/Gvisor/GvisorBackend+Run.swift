import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The gvisor backend's foreground `run`: waiting for the container, passing signals
/// on, recording the exit and removing what is left.
extension GvisorBackend {
    /// Foreground `run` of a plain container: one `runsc run` (one runsc start-up, as
    /// plain runsc pays), our stdio, signals forwarded to it (it forwards them into the
    /// sandbox), its exit code, then our state goes (runsc removed its own).
    func runForeground(_ process: RunscProcess, record: ContainerRecord, createLog: String, cgroupsPath: String?,
                             relay: GvisorConsoleRelay?, keep: Bool = false, beforeDelete: ((ContainerRecord) -> Void)?) throws -> Int32 {
        let waited = ContainerRuntime.forwardedSignals + [SIGCHLD]
        Signals.block(waited)
        let child = try process.spawn()
        let early = try killedOnFailure(child) { try relay?.relay(from: child) }
        let status = early ?? runtime.waitForInit(child, forwarding: waited)
        let dir = store.directory(of: record.id)
        // runsc exits 128 when it fails itself; its log then holds the error, and
        // what it left is removed. Otherwise `runsc run` removed its container itself:
        // another runsc start-up here would be the whole cost of the delegation.
        if status == .exited(128), let error = RunscLog.lastError(path: createLog) {
            _ = try? runsc(record, ["delete", "--force", record.id]).capture()
            GvisorCgroups.removeAfterFailedCreate(cgroupsPath: cgroupsPath, id: record.id)
            GvisorBindSources.remove(root: store.root, id: record.id)
            try? Files.removeTree(dir)
            throw RunscError.message(verb: "run", id: record.id, runscText: error)
        }
        beforeDelete?(record)
        // runsc run removes its sandbox's cgroups, except when the sandbox itself died
        // (OOM-killed, say): then they are empty and left; rmdir them (no-op otherwise).
        GvisorCgroups.removeAfterFailedCreate(cgroupsPath: cgroupsPath, id: record.id)
        // --keep: our state stays (stopped: runsc knows the container no more) until
        // `delete`, which finds runsc's side gone and removes ours.
        if !keep {
            GvisorBindSources.remove(root: store.root, id: record.id)
            try? Files.removeTree(dir)
        }
        return status.shellCode
    }

    /// A sandbox `run` created and started: wait for the sandbox process, record the
    /// exit, remove it.
    ///
    /// `runsc wait` cannot be used: before start it waits on the sandbox process,
    /// which is not its child ("exit status is unavailable"), and after start it loses
    /// the race with a container that exits at once (the sandbox ends with its root
    /// container). So this process is a child subreaper from before `runsc create`:
    /// the sandbox process, orphaned when `runsc create` exits, becomes our child, and
    /// its exit status is the container's (runsc boot exits with the container's code,
    /// or 128 + signal). Signals to us reach the container through `runsc kill`.
    /// `started`: runsc restore has started it already.
    func waitForSandbox(_ record: ContainerRecord, keep: Bool = false, started: Bool = false,
                        beforeDelete: ((ContainerRecord) -> Void)?) throws -> Int32 {
        let waited = ContainerRuntime.forwardedSignals + [SIGCHLD]
        if !started { try startSandbox(record) }
        var exit = ExitStatus.signaled(SIGKILL)
        loop: while true {
            if Processes.startTime(of: record.pid) != record.pidStartTime {
                // Gone before we saw it as a child (never re-parented to us): no status.
                break loop
            }
            let (signal, _) = Signals.wait(for: waited)
            if signal == SIGCHLD {
                while let (reaped, status) = Processes.reapAny() {
                    if reaped == record.pid {
                        exit = status
                        break loop
                    }
                    // The warden ends with the sandbox: only its death while the
                    // sandbox still runs is news (the caller then fails closed).
                    if Processes.startTime(of: record.pid) == record.pidStartTime { runtime.observer?.otherChildExited(reaped) }
                }
            } else {
                _ = try? runsc(record, ["kill", record.id, String(signal)]).capture()
            }
        }
        let code = exit.shellCode
        // The gofer, re-parented to us, must be reaped before anyone's `runsc delete`.
        reapSandboxOrphans(sparing: ((try? store.load(record.id)) ?? record).liveWardenPid)
        // Under the container's lock from here: a verb that ended the sandbox itself
        // (`agent checkpoint`, which saves its upper layer after runsc's checkpoint
        // stops it, then removes it; `delete`) finishes first, and what it removed is
        // not removed twice.
        let lock: ContainerLock
        do { lock = try store.lock(record.id) } catch let error as RuntimeError where error.kind == .containerNotFound {
            return code
        }
        defer { lock.release() }
        runtime.recordExit(record, exit)
        let current = (try? store.load(record.id)) ?? record
        var reported = code
        if let beforeDelete {
            beforeDelete(current)
        } else {
            runtime.recordEnd(current, exitRecorded: true)
            if current.ephemeralRoot { reported = runtime.sandboxExitCode(exit, record: current) }
        }
        // --keep: the stopped container stays for `state` and `delete`.
        if keep { return reported }
        do {
            try destroy(current)
            runtime.recordAudit(record.annotations, record.id, "delete", [:])
        } catch {
            log.warning("\(error)")
        }
        return reported
    }

    /// The gofer was re-parented to us with the sandbox (waitForSandbox) and ends with it;
    /// `runsc delete` waits for it to be gone, which a zombie never is to `kill(pid,
    /// 0)`: reap it (and anything else of the sandbox's) first, for at most 5 s.
    func reapSandboxOrphans(sparing warden: Int32?) {
        let me = getpid()
        for _ in 0..<500 {
            while let (reaped, _) = Processes.reapAny() { if reaped == warden { break } }
            let children = Processes.all().filter { $0 != warden && Processes.parent(of: $0) == me }
            if children.isEmpty { return }
            usleep(10_000)
        }
    }
}
