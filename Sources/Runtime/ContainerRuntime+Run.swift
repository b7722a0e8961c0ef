import ContainerCore
import Linux
import OCI
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// `body`'s result; if it throws, our child `pid` is killed with SIGKILL and reaped
/// first.
func killedOnFailure<T>(_ pid: Int32, _ body: () throws -> T) throws -> T {
    do { return try body() } catch {
        _ = Glibc.kill(pid, SIGKILL)
        _ = try? Processes.wait(pid)
        throw error
    }
}

extension ContainerRuntime {
    /// Signals `run` passes on to the container instead of dying of them, as runc does.
    public static let forwardedSignals: [Int32] = [
        SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPWR,
    ]

    /// `run`: create and start; with `detach` return at once, otherwise wait for the
    /// container's process, forward signals to it, delete the container when it ends
    /// and return its exit code (128 + signal for a signal death).
    ///
    /// `beforeDelete` sees the record once the init has exited and before anything
    /// is removed (`agent run` reads the warden's report and the change set there).
    /// `keep` (runc's `run --keep`): leave the stopped container for `state` and
    /// `delete` instead of deleting it when it ends. `subreaper` false (runc's
    /// `--no-subreaper`): orphans of the container are not reparented to this process.
    public func run(id: String, options: CreateOptions, detach: Bool, keep: Bool = false, subreaper: Bool = true,
                    beforeDelete: ((ContainerRecord) -> Void)? = nil) throws -> Int32 {
        PhaseTrace.mark("run")
        try ContainerID.validate(id)
        let bundle = try prepared(Bundle.load(options.bundle), id: id)
        PhaseTrace.mark("bundle loaded")
        let (backend, config) = try selectBackend(for: bundle.spec)
        if backend == .gvisor {
            return try GvisorBackend(runtime: self).create(id: id, bundle: bundle, options: options, config: config,
                                                           mode: detach ? .runDetached : .runForeground, keep: keep, beforeDelete: beforeDelete)
        }
        if detach {
            recordCreate(try createContainer(id: id, bundle: bundle, options: options, consoleSocketFD: nil),
                         command: bundle.spec.process?.args)
            do { try start(id: id) } catch {
                try? delete(id: id, force: true)
                throw error
            }
            return 0
        }
        // The init may be a grandchild (user namespaces): be its reaper. Block the
        // signals we wait for before forking; the init unblocks them before exec.
        // --no-subreaper is honoured where the init is our own child: a grandchild
        // init could not be waited for at all without it.
        let initIsGrandchild = bundle.spec.linux?.namespaces?.contains { $0.type == .user || $0.type == .time } ?? false
        if subreaper || initIsGrandchild { try ProcessControl.becomeChildSubreaper() }
        let waited = Self.forwardedSignals + [SIGCHLD]
        Signals.block(waited)

        // A terminal with nobody to hand it to: keep the pty master and relay it.
        var consoleEnds: (FileDescriptor, FileDescriptor)?
        if bundle.spec.process?.terminal ?? false, options.consoleSocket == nil {
            consoleEnds = try Sockets.seqpacketPair()
        }
        // We reap the init and record its exit: the warden need not watch for it.
        var foreground = options
        foreground.callerReapsInit = true
        let created = try createContainer(id: id, bundle: bundle, options: foreground, consoleSocketFD: consoleEnds?.1)
        consoleEnds?.1.close()
        recordCreate(created, command: bundle.spec.process?.args)
        var proxy: TerminalProxy?
        do {
            if let ours = consoleEnds?.0 {
                proxy = TerminalProxy(master: try ours.receiveDescriptor())
            }
            try native.start(created, justCreated: true)
        } catch {
            proxy?.restore()
            try? delete(id: id, force: true)
            throw error
        }
        PhaseTrace.mark("started")
        let status = try waitForInit(created.pid, forwarding: waited, relaying: proxy)
        PhaseTrace.mark("exited")
        recordExit(created, status)
        var code = status.shellCode
        if let beforeDelete {
            // The record as create finished it (the warden's pid is in the saved copy).
            beforeDelete((try? store.load(id)) ?? created)
        } else if created.ephemeralRoot {
            // Only a sandbox's end is audited (recordEnd); the saved copy has the
            // warden's pid. Anything else need not read state.json again.
            let saved = (try? store.load(id)) ?? created
            recordEnd(saved, exitRecorded: true)
            code = sandboxExitCode(status, record: saved)
        }
        // --keep: the stopped container stays, as runc leaves it, until `delete`
        // (which also runs the poststop hooks then).
        if keep { return code }
        // The init is gone: remove what is left (state, hooks, and any process that
        // outlived it: none can when the container had its own pid namespace).
        do {
            let lock = try store.lock(id)
            if !created.ownsPidNamespace { created.signalAll(.kill) }
            lock.release()
            try native.destroy(created)
            recordAudit(created.annotations, id, "delete", [:])
        } catch {
            log.warning("\(error)")
        }
        PhaseTrace.mark("deleted")
        return code
    }

    /// The exit code `run` reports for sandbox `record` whose init ended with
    /// `status`: 124, timeout(1)'s (and `agent run`'s), when its warden killed it at the
    /// policy's deadline, so the caller can tell a deadline from any other SIGKILL;
    /// otherwise the init's own. Read from the warden's report, waited for briefly
    /// (it is written as the init's exit is seen).
    func sandboxExitCode(_ status: ExitStatus, record: ContainerRecord) -> Int32 {
        if let warden = record.liveWardenPid { _ = Processes.waitForExit(warden, timeout: 2) }
        guard WardenReport.read(stateDirectory: store.directory(of: record.id))?.report?.reason == .timeout else { return status.shellCode }
        return Self.timeoutExitCode
    }

    /// The exit code for a sandbox killed at its deadline, as timeout(1) uses it.
    public static let timeoutExitCode: Int32 = 124

    /// Waits for the init to exit, reaping every child and forwarding signals.
    func waitForInit(_ pid: Int32, forwarding signals: [Int32]) -> ExitStatus {
        while true {
            let (signal, _) = Signals.wait(for: signals)
            if let status = handle(signal, initPid: pid) { return status }
        }
    }

    /// `waitForInit`, with the terminal relayed through `proxy` when there is one
    /// (and restored once the init has exited).
    func waitForInit(_ pid: Int32, forwarding signals: [Int32], relaying proxy: TerminalProxy?) throws -> ExitStatus {
        guard let proxy else { return waitForInit(pid, forwarding: signals) }
        let status = proxy.pump(signals: try Signals.descriptor(for: signals)) { signal in
            handle(signal, initPid: pid)
        }
        proxy.restore()
        return status
    }

    /// SIGCHLD: reap children, and report the init's end. Anything else: forward it.
    func handle(_ signal: Int32, initPid pid: Int32) -> ExitStatus? {
        if signal == SIGCHLD {
            while let (reaped, status) = Processes.reapAny() {
                if reaped == pid { return status }
                observer?.otherChildExited(reaped)
            }
        } else if signal > 0 {
            _ = Glibc.kill(pid, signal)
        }
        return nil
    }
}
