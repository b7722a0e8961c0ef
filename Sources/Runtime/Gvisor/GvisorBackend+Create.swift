import ContainerCore
import Sandbox
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The gvisor backend's create, start and run: safehouse keeps its own state
/// directory (the record says `backend: gvisor`, which runsc binary and which
/// sandbox flags), applies the agent treatment (ephemeral root, warden, egress
/// listener) around the sandbox, and lets runsc, under `<root>/@runsc`, do the rest.
extension GvisorBackend {
    /// How `create` is to end.
    enum GvisorCreateMode { case create, runDetached, runForeground }

    /// Where runsc keeps its own state for this root. The `@` keeps it apart from the
    /// containers' directories: no container id can contain one (ContainerID), so no
    /// `delete --force` of an id can remove runsc's state, and `list` never shows it.
    var runscRoot: String { store.root + "/@runsc" }

    /// One runsc verb on the container that takes nothing but its id; its stdout.
    @discardableResult
    func runscVerb(_ record: ContainerRecord, _ verb: String) throws -> String {
        try runsc(record, [verb, record.id]).checked(verb: verb, id: record.id)
    }

    /// A runsc command for `record`'s sandbox (its fixed flags, this invocation's log flags).
    func runsc(_ record: ContainerRecord, _ args: [String]) -> RunscProcess {
        RunscProcess(executable: record.runsc, arguments: record.runscFlags + RunscFlags.invocationFlags(
            log: runtime.logPath, logFormat: runtime.logFormatName, debug: log.debugEnabled) + args)
    }

    /// `create`, `run --detach` and foreground `run` on gvisor, and `restore` (with
    /// `restoreImage`: runsc's restore makes and starts the sandbox from a checkpoint,
    /// detached or in the foreground as `run`). Returns the exit code (foreground: the
    /// container's).
    func create(id: String, bundle: Bundle, options: CreateOptions, config: BackendConfig?,
                      mode: GvisorCreateMode, keep: Bool = false, restoreImage: String? = nil,
                      beforeDelete: ((ContainerRecord) -> Void)? = nil) throws -> Int32 {
        var spec = bundle.spec
        // runsc loads one profile (--oci-seccomp), not two: the provider's filter
        // stands in where the engine set none; an engine's own profile is runsc's alone
        // (gVisor's sentry, not the host kernel, answers the container's calls).
        if spec.linux?.seccomp == nil, let added = bundle.overlay?.addedSeccomp {
            var linux = spec.linux ?? LinuxConfig()
            linux.seccomp = added
            spec.linux = linux
        }
        // Nor a host user namespace the rewrite added: gVisor's sentry stands between
        // the container and the host kernel, and runsc's gofer, in such a namespace,
        // cannot open an engine's bind sources (Podman's /etc/hosts, ...).
        if bundle.overlay?.addedUserNamespace == true, var linux = spec.linux {
            linux.namespaces = linux.namespaces?.filter { $0.type != .user }
            linux.uidMappings = nil
            linux.gidMappings = nil
            spec.linux = linux
        }
        // A foreground run relays the terminal itself (GvisorConsoleRelay).
        let process = try bundle.processToCreate(spec, terminalHasSocket: options.consoleSocket != nil || mode == .runForeground)
        // runsc create and run have no --preserve-fds, and do not pass systemd's sockets.
        if options.preserveFds != 0 { throw RuntimeError("--preserve-fds: not supported by the gvisor backend (runsc cannot pass extra descriptors)") }
        if options.noPivot { throw RuntimeError("--no-pivot: not supported by the gvisor backend (runsc never pivots on the host)") }
        try GvisorPreflight.checkExecutable(process, rootfs: bundle.rootfs, mounts: spec.mounts ?? [])
        try GvisorPreflight.checkBindSources(spec.mounts ?? [], bundle: bundle.path)
        // runsc applies no host LSM label to the sandbox either: refused the same way.
        try SecurityLabels.check(spec)
        let treatment: SandboxConfig?
        do { treatment = try runtime.sandboxes?.treatment(for: spec, id: id) } catch { throw RuntimeError("\(error)") }
        let executable = try RunscProcess.locate(configured: config?.runsc)
        let egress = !(treatment?.networkAllow ?? []).isEmpty
        if restoreImage != nil, mode == .create {
            throw RuntimeError("restore: the gvisor backend restores a started container (runsc restore has no created state)")
        }
        // A sandbox restored: its ephemeral root is seeded with the upper layer its
        // checkpoint saved; with an allowlist, its egress link is made before runsc
        // restores it (GvisorEgressLink.prepareForRestore).
        var seed: String?
        if let restoreImage, treatment != nil {
            if egress { try Self.checkRestorableEgress(spec.annotations ?? [:], id: id) }
            seed = restoreImage + "/" + Self.upperLayerDirectory
            guard Files.isDirectory(seed!) else {
                throw RuntimeError("--image-path \(restoreImage): no upper layer (\(Self.upperLayerDirectory)/) there: not a checkpoint of an agent sandbox")
            }
        }
        try EgressNamespacePlan.refuseOnGvisor(treatment, spec: spec, root: store.root)
        try GvisorCgroups.claim(spec, id: id, sandbox: treatment != nil)
        let lock = try store.makeContainerDirectory(id)
        defer { lock.release() }
        let dir = store.directory(of: id)
        var record = ContainerRecord(
            id: id, pid: 0, pidStartTime: 0, bundle: bundle.path, rootfs: bundle.rootfs, created: Clock.rfc3339Now(),
            owner: Owner.name(of: getuid()), annotations: spec.annotations,
            // The host-side hooks are safehouse's to run (GvisorSandboxBundle.hostHookKinds).
            hooks: spec.hooks, ownsPidNamespace: true, backend: .gvisor)
        record.runsc = executable
        let network = RunscFlags.network(for: spec, egress: egress, policyWithoutNetwork: treatment != nil && !egress)
        record.runscFlags = RunscFlags.sandboxFlags(
            runscRoot: runscRoot, network: network,
            seccomp: spec.linux?.seccomp != nil, overlay: config?.runscOverlay, debugLog: config?.runscDebugLog)
        record.ephemeralRoot = treatment != nil
        var runscMade = false
        // A restored sandbox's egress, made before runsc runs: the namespace is ours
        // until runsc's sandbox has joined it, the listeners until the warden has them.
        var restoredEgress: GvisorEgressLink.Prepared?
        var restoredSockets: EgressListener.Sockets?
        defer { restoredEgress?.namespace.close(); restoredSockets?.close() }
        do {
            try Files.makeDirectories(runscRoot, mode: 0o700)
            // Recorded before runsc starts, so that a create killed half way can be deleted.
            try store.save(record)
            // `exec` builds its process from the container's own (as native does); in an
            // egress sandbox, with the proxy variables it has inside gVisor.
            try Files.writeAtomically(store.configPath(of: id),
                                      treatment != nil && egress ? try GvisorSandboxBundle.linkedConfig(spec) : bundle.configBytes)
            if let overlay = bundle.overlay { try store.saveOverlay(overlay, of: id) }
            var runscBundle = bundle.path
            let hostHooks = GvisorSandboxBundle.hasHostHooks(spec)
            // Bind sources the gofer, in the container's user namespace, could not open by path.
            let staged = treatment == nil ? try GvisorBindSources.stage(spec, bundle: bundle.path, root: store.root, id: id) : nil
            if treatment == nil && (hostHooks || staged != nil) {
                runscBundle = try GvisorSandboxBundle.write(spec: staged ?? spec, rootPath: bundle.rootfs, stateDirectory: dir)
            }
            var sandboxSpec = spec
            if restoreImage != nil, egress, let treatment {
                let prepared = try GvisorEgressLink.prepareForRestore(mode: treatment.egressMode)
                restoredEgress = prepared
                restoredSockets = prepared.sockets
                sandboxSpec = GvisorSandboxBundle.joiningNetwork(spec, at: prepared.path)
            }
            if treatment != nil {
                runscBundle = try GvisorSandboxBundle.write(spec: sandboxSpec, bundle: bundle, id: id, stateDirectory: dir,
                                                            ephemeral: EphemeralRoot.directory(root: store.root, id: id),
                                                            diskBytes: treatment?.diskBytes ?? 0,
                                                            egressMode: egress ? treatment?.egressMode : nil, seed: seed,
                                                            trustFiles: treatment?.trustFiles(image: bundle.rootfs) ?? [:])
            }
            // Its own log for this step: on failure its last error is the message
            // (runsc's stderr is the container's, so it cannot be captured).
            let createLog = dir + "/runsc-create.log"
            var args = record.runscFlags + ["--log", createLog, "--log-format=json"] + (log.debugEnabled ? ["--debug"] : [])
            // A sandbox is always created, then started: its warden must see the start;
            // so is a container whose hooks run between create and start, and one on
            // gVisor's netstack, which only `runsc start` can set up on this kernel
            // (RunscProcess.hidesNetSysctls: `runsc run` refuses it).
            let verb = restoreImage != nil ? "restore"
                : treatment == nil && !hostHooks && network != .sandbox && mode != .create ? "run" : "create"
            args.append(verb)
            if let restoreImage { args += ["--image-path", restoreImage] }
            // A sandbox is always restored detached, then waited for as one `create`
            // and `start` made (waitForSandbox): its warden must be started first.
            if verb != "create" && (mode == .runDetached || treatment != nil) { args.append("--detach") }
            // A foreground `run` of a plain container never reads the sandbox pid
            // itself (`state` asks runsc): runsc writes the caller's pid file directly.
            let runscPidFile = mode == .runForeground && verb != "create"
                ? (options.pidFile.map(Bundle.absolute) ?? dir + "/runsc.pid") : dir + "/runsc.pid"
            args += ["--bundle", runscBundle, "--pid-file", runscPidFile]
            let relay = try GvisorConsoleRelay.make(process: process, consoleSocket: options.consoleSocket, stateDirectory: dir)
            if let socket = options.consoleSocket { args += ["--console-socket", relay?.path ?? socket] }
            args.append(id)
            var runscProcess = RunscProcess(executable: executable, arguments: args)
            // A restore sets up the netstack as `runsc start` does (startSandbox).
            runscProcess.hidesNetSysctls = restoredEgress != nil
            runscMade = true

            if mode == .runForeground && verb != "create" && treatment == nil {
                return try runForeground(runscProcess, record: record, createLog: createLog, cgroupsPath: spec.linux?.cgroupsPath, relay: relay, keep: keep, beforeDelete: beforeDelete)
            }
            if mode == .runForeground {
                // Before runsc create forks the sandbox: it must become our child (waitForSandbox).
                try ProcessControl.becomeChildSubreaper()
                Signals.block(ContainerRuntime.forwardedSignals + [SIGCHLD])
            }
            let child = try runscProcess.spawn()
            let status = try killedOnFailure(child) { try relay?.relay(from: child) ?? Processes.wait(child) }
            // runsc's sandbox holds its network namespace now (or there is none).
            restoredEgress?.namespace.close()
            restoredEgress = nil
            guard status == .exited(0) else {
                throw RunscError.message(verb: verb, id: id,
                                         runscText: RunscLog.lastError(path: createLog) ?? "exit status \(status.shellCode)")
            }
            let linked = restoredSockets
            restoredSockets = nil
            record = try adoptSandbox(record, pidFile: options.pidFile, treatment: treatment,
                                 callerReapsInit: mode == .runForeground, linkedSockets: linked)
            try store.save(record)
            // The sandbox is made and its process waits for start: where runc runs them.
            if hostHooks {
                // "created", as for the native backend (ContainerRuntime+Create).
                _ = try runtime.runCreateHooks(record)
            }
            runtime.recordCreate(record, command: process.args)
            if mode == .runDetached && verb == "create" { try startSandbox(record) }
            if verb == "restore" { restoredSandbox(record, image: restoreImage ?? "") }
            if mode == .runForeground {
                // The container exists now: let go of its lock before the wait, as the
                // native `run` does, so `kill`, `pause` and the emergency stop reach it
                // while it runs instead of queueing until it ends.
                lock.release()
                return try waitForSandbox(record, keep: keep, started: verb == "restore", beforeDelete: beforeDelete)
            }
            return 0
        } catch {
            // The warden first: a failed create has no exit to record.
            if let warden = record.liveWardenPid { _ = Glibc.kill(warden, SIGKILL); _ = Processes.waitForExit(warden, timeout: 2) }
            if runscMade {
                _ = try? runsc(record, ["delete", "--force", id]).capture()
                GvisorCgroups.removeAfterFailedCreate(
                    cgroupsPath: treatment != nil ? GvisorSandboxBundle.sandboxCgroupsPath(spec, id: id) : spec.linux?.cgroupsPath,
                    id: id)
            }
            try? EphemeralRoot.remove(EphemeralRoot.directory(root: store.root, id: id))
            GvisorBindSources.remove(root: store.root, id: id)
            try? Files.removeTree(dir)
            throw error
        }
    }

    /// After runsc made the sandbox: its pid (runsc's pid file: the sandbox process,
    /// which engines treat as the container's init), the caller's pid file, and for a
    /// sandbox the egress listener and the warden.
    /// `linkedSockets`: a restore's listeners, its link made before runsc ran; the
    /// warden gets them (or they are closed here).
    private func adoptSandbox(_ record: ContainerRecord, pidFile: String?, treatment: SandboxConfig?,
                              callerReapsInit: Bool, linkedSockets: EgressListener.Sockets? = nil) throws -> ContainerRecord {
        var unhanded = linkedSockets
        defer { unhanded?.close() }
        var record = record
        let dir = store.directory(of: record.id)
        let text = (try? Files.readString(dir + "/runsc.pid")) ?? ""
        guard let pid = Int32(text.filter { $0.isNumber }), pid > 0, let start = Processes.startTime(of: pid) else {
            throw RuntimeError("gvisor: runsc wrote no sandbox pid to \(dir)/runsc.pid")
        }
        record.pid = pid
        record.pidStartTime = start
        // The sandbox's cgroups (runsc placed it by the spec's cgroupsPath): the
        // warden's kill and `ps`, `events` and stop-all read them.
        record.cgroupPaths = GvisorCgroups.paths(of: pid)
        if let pidFile { try Bundle.writePidFile(pidFile, pid: pid) }
        if let treatment {
            // The warden watches the sandbox process: it ends when the container's init
            // does (runsc stops a sandbox whose root container exited), and killing its
            // cgroup ends the sandbox and the gofer together. The listeners go into a
            // namespace of the warden's, linked to the sandbox's, which runsc made and
            // whose interfaces gVisor's netstack takes over at start (GvisorEgressLink;
            // RunscFlags.network). When the warden records the exit, it listens before
            // `runsc start` can run the command.
            let started = try runtime.startWarden(treatment, servesEgress: !treatment.networkAllow.isEmpty, watching: pid, callerReapsInit: callerReapsInit, record: &record) {
                if let linked = unhanded {
                    unhanded = nil
                    return linked
                }
                return try GvisorEgressLink.open(sandboxPid: pid, mode: treatment.egressMode)
            }
            started.waitUntilReady()
        }
        return record
    }

    /// What follows a restore that `runsc restore` started itself: the warden's
    /// deadline begins (as at a start), and the audit log says where it came from.
    func restoredSandbox(_ record: ContainerRecord, image: String) {
        if let warden = record.liveWardenPid { _ = Glibc.kill(warden, SIGUSR1) }
        runtime.recordAudit(record.annotations, record.id, "restore", ["pid": .int(Int64(record.pid)), "image": .string(image)])
    }

    /// `runsc start`, then what follows a start (the warden told, poststart hooks).
    func startSandbox(_ record: ContainerRecord) throws {
        var start = runsc(record, ["start", record.id])
        // runsc sets up its netstack here (RunscProcess.hidesNetSysctls says why).
        start.hidesNetSysctls = record.runscFlags.contains("--network=" + RunscFlags.Network.sandbox.rawValue)
        _ = try start.checked(verb: "start", id: record.id)
        runtime.didStart(record)
    }

    /// Removes a gvisor container: runsc's sandbox and state, then ours (the warden's
    /// report waited for, the ephemeral root unmounted).
    func destroy(_ record: ContainerRecord) throws {
        let result = try runsc(record, ["delete", "--force", record.id]).capture()
        if result.status != .exited(0) {
            let error = RunscError.message(verb: "delete", id: record.id, runscText: result.stderr)
            // Already gone from runsc (its run ended, or its create never finished).
            if error.kind != .containerNotFound { throw error }
        }
        if record.pid > 0, Processes.startTime(of: record.pid) == record.pidStartTime {
            _ = Processes.waitForExit(record.pid, timeout: 10)
        }
        if let warden = record.liveWardenPid { _ = Processes.waitForExit(warden, timeout: 2) }
        try stage("remove the ephemeral root") { try EphemeralRoot.remove(EphemeralRoot.directory(root: store.root, id: record.id)) }
        GvisorBindSources.remove(root: store.root, id: record.id)
        try stage("remove \(store.directory(of: record.id))") { try Files.removeTree(store.directory(of: record.id)) }
        runtime.removeAgentBundle(record)
        runtime.runHooksWarning(.poststop, of: record, status: .stopped)
    }
}
