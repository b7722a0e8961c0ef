import ContainerCore
import Sandbox
import Cgroups
import FoundationEssentials
import Linux
import OCI
import Seccomp
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRuntime {
    /// `create`: validate everything, make the state directory, fork the init into its
    /// namespaces, run the runtime-side hooks, and return once the init waits for
    /// `start`. On any failure, everything made so far is removed.
    public func create(id: String, options: CreateOptions) throws {
        try ContainerID.validate(id)
        let bundle = try prepared(Bundle.load(options.bundle), id: id)
        let (backend, config) = try selectBackend(for: bundle.spec)
        guard backend == .native else {
            _ = try GvisorBackend(runtime: self).create(id: id, bundle: bundle, options: options, config: config, mode: .create)
            return
        }
        recordCreate(try createContainer(id: id, bundle: bundle, options: options, consoleSocketFD: nil),
                     command: bundle.spec.process?.args)
    }

    /// The create record: the init, the bundle, and the command the sandbox runs (an
    /// audit log that says what ran, not only that something did).
    func recordCreate(_ record: ContainerRecord, command: [String]?) {
        recordAudit(record.annotations, record.id, "create",
                    ["pid": .int(Int64(record.pid)), "bundle": .string(record.bundle), "rootfs": .string(record.rootfs),
                     "command": .json(jsonArray(command ?? []))])
    }

    /// The container's record; its init is our child (or will be re-parented to us as
    /// subreaper).
    func createContainer(id: String, bundle: Bundle, options: CreateOptions, consoleSocketFD: FileDescriptor?) throws -> ContainerRecord {
        // Not dumpable before any fork: an init forked into a joined pid namespace is
        // visible to that namespace's processes from its first instruction (see exec).
        try stage("prctl(PR_SET_DUMPABLE, 0)") { try ProcessControl.setDumpable(false) }
        let spec = bundle.spec
        var process = try bundle.processToCreate(spec, terminalHasSocket: options.consoleSocket != nil || consoleSocketFD != nil)
        if options.preserveFds < 0 { throw RuntimeError("--preserve-fds must not be negative") }
        // Sockets systemd passed to us go in first (3 ..< 3+N), --preserve-fds after.
        var preserveFds = options.preserveFds
        if let activation = SocketActivation.fromEnvironment() {
            process.env = (process.env ?? []) + activation.environment
            preserveFds += activation.count
        }
        var plan = try NamespacePlan(spec: spec)
        let treatment: SandboxConfig?
        do { treatment = try sandboxes?.treatment(for: spec, id: id) } catch { throw RuntimeError("\(error)") }
        // Not for sandboxes: their egress set-up opens the init's network namespace by
        // its /proc path right after the fork, before the init would have joined it.
        plan.networkFromRuntime = plan.canTakeNetworkFromRuntime && treatment == nil
        // Egress in a namespace the spec names (a pod's): serve it, share its owner's
        // listeners, or be refused, decided before anything is made.
        let egressNamespace = try treatment.flatMap {
            try EgressNamespacePlan.make($0, spec: spec, networkJoin: plan.join(.network), root: store.root, id: id)
        }
        var egressNamespaceSettled = false
        defer { if !egressNamespaceSettled { egressNamespace?.abandon(id) } }
        // Made by a helper task from here on, as early as the plan is known: it has the
        // rest of the work before the fork, and the fork and the cgroup directories
        // after it, before it is handed to the init (handOver).
        let network = plan.networkFromRuntime ? BackgroundNetworkNamespace.start() : nil
        warnAboutUnknownCapabilities(process.capabilities)
        try SecurityLabels.check(spec)
        try stage("invalid configuration") {
            try CgroupManager.validate(cgroupsPath: spec.linux?.cgroupsPath, systemdDriver: systemdCgroup)
            if let resources = spec.linux?.resources { try CgroupManager.validate(resources: resources) }
        }
        // Compiled here, before anything is made: a bad profile fails create cleanly.
        let seccomp = try SeccompLoading.compile(spec.linux?.seccomp)
        if let skipped = seccomp?.skippedSyscalls, !skipped.isEmpty {
            log.warning("seccomp: ignoring syscalls unknown to this kernel or libseccomp: \(skipped.joined(separator: " "))")
        }
        // The provider's filter, loaded after the spec's in the same step.
        let addedSeccomp = try SeccompLoading.compile(bundle.overlay?.addedSeccomp)
        // Worked out after the fork, while the init enters its namespaces.
        var cgroups: CgroupManager?
        // Only the directories the runtime makes itself are ever removed (CgroupClaim).
        var createdCgroups: [String] = []
        let (cgroupsPath, cgroupOrigin) = Self.cgroupsPath(of: spec, id: id, sandbox: treatment != nil, systemdDriver: systemdCgroup)
        let console = try consoleSocketFD ?? options.consoleSocket.map { path in
            try stage("--console-socket \(path)") { try Sockets.connect(unixPath: path) }
        }

        let lock = try store.makeContainerDirectory(id)
        defer { lock.release() }
        var initPid: Int32 = 0
        var wardenStarted: WardenLauncher.Started?
        defer { wardenStarted?.ready?.close() }
        do {
            // Before the fork, not while the init sets up (it would save ~30 us there):
            // a create killed after the fork but before state.json has only this copy
            // to tell `delete --force` where its cgroups are (removeHalfMadeCgroups).
            try Files.writeAtomically(store.configPath(of: id), bundle.configBytes)
            // What exec must add to the container's own process (a rewritten spec's).
            if let overlay = bundle.overlay { try store.saveOverlay(overlay, of: id) }
            let fifoPath = store.fifoPath(of: id)
            try syscall("mkfifo", fifoPath) { mkfifo(fifoPath, 0o622) }
            // Opened read-write so the open does not block; the init inherits it.
            let fifo = try FileDescriptor.open(fifoPath, O_RDWR)
            let (parentEnd, childEnd) = try Sockets.seqpacketPair()
            // The sandbox's root: an overlay over the image, made before the fork so the
            // init's mount namespace starts with it.
            var rootfs = bundle.rootfs
            if let treatment {
                PhaseTrace.mark("making the ephemeral root")
                rootfs = try stage("ephemeral root for \(bundle.rootfs)") {
                    try EphemeralRoot.mount(lower: bundle.rootfs, at: EphemeralRoot.directory(root: store.root, id: id),
                                            sizeBytes: treatment.diskBytes, linux: spec.linux, files: treatment.trustFiles(image: bundle.rootfs))
                }
            }
            var config = InitConfig(
                id: id, spec: spec, process: process, rootfs: rootfs, bundle: bundle.path,
                channel: SyncChannel(socket: childEnd), execFifo: fifo, consoleSocket: console,
                namespaces: plan, noPivot: options.noPivot, noNewKeyring: options.noNewKeyring,
                preserveFds: preserveFds, lock: lock, seccomp: seccomp, addedSeccomp: addedSeccomp,
                cgroupFilesFromRuntime: plan.needsIntermediate)
            if plan.new.contains(.mount) {
                // Here, still host root in the host's namespaces: the init may be
                // neither by the time it mounts.
                config.bindSources = try HostBindSources.open(spec.mounts ?? [], bundle: bundle.path, held: options.bindSourceDescriptors,
                                                              userNamespace: plan.new.contains(.user) || plan.joinsUser)
            }
            let channel = SyncChannel(socket: parentEnd)

            // The init is born in its v2 cgroup (it, or the intermediate that forks
            // it) and moves itself into the v1 ones: no cgroup.procs write by pid is
            // left on the create path, as each such move waits for an RCU grace period
            // in the kernel (1-20 ms here, the largest single cost of a create on a busy
            // machine). The v2 directory must exist before the fork for that.
            var bornIn: FileDescriptor?
            defer { bornIn?.close() }
            let membership = CgroupMembership.of()
            // Read once: parsed for every hierarchy (the claim) and for the v2 one alone.
            let mountinfo = CgroupLayout.hostMountinfo()
            // Every hierarchy's directory is checked before the first is made: the
            // container must not land in a cgroup that holds someone else's processes.
            let allCgroups = try CgroupManager(layout: .parse(mountinfo: mountinfo), cgroupsPath: cgroupsPath, id: id,
                                               systemdDriver: systemdCgroup, callerMembership: membership)
            let fresh: [String]
            do { fresh = try CgroupClaim.check(allCgroups.paths, origin: cgroupOrigin) } catch { throw RuntimeError("\(error)") }
            try CgroupClaim.record(fresh, inDirectory: store.directory(of: id))
            createdCgroups = fresh
            // Only the v2 hierarchy now; all of them after the fork.
            let v2Cgroup = try CgroupManager(layout: .parse(mountinfo: mountinfo, onlyV2: true), cgroupsPath: cgroupsPath, id: id,
                                             systemdDriver: systemdCgroup, callerMembership: membership)
            cgroups = v2Cgroup
            if let dir = v2Cgroup.v2Directory {
                try v2Cgroup.makeDirectories(version: .v2, fresh: fresh)
                bornIn = try stage("open cgroup \(dir)") { try FileDescriptor.open(dir, O_RDONLY | O_DIRECTORY) }
            }

            PhaseTrace.mark("forking")
            initPid = try forkInit(config, plan: plan, parentEnd: parentEnd, channel: channel, bornIn: bornIn) { pid, bornInV2 in
                let manager = allCgroups
                // Before the init joins: in a frozen cgroup it would never answer.
                try manager.refuseIfFrozen()
                cgroups = manager
                try manager.makeDirectories(version: bornIn == nil ? nil : .v1, fresh: fresh)
                // The network namespace goes first (the init expects it before the
                // cgroup messages, for its sysfs mount near the end of its mounts); the
                // helper making it has had the fork and the directories to finish in.
                if plan.networkFromRuntime { try Self.handOver(network, through: parentEnd) }
                // The directories are all the init needs for its cgroup mount: tell it
                // at once, then set the limits while it mounts. It joins its v1 cgroups
                // on `cgroupsApplied`, after the limits are set, and before it drops its
                // privileges, so the limits hold before the user's program runs.
                let placement = CgroupPlacement(manager)
                try channel.send(.cgroupDirectoriesMade(placement: placement.encoded))
                try manager.apply(resources: spec.linux?.resources ?? LinuxResources())
                if config.cgroupFilesFromRuntime {
                    // The init's own user namespace leaves it no right to open them.
                    let files = try CgroupManager.openTasksFiles(in: placement.v1Directories)
                    defer { for file in files { file.close() } }
                    for file in files {
                        try stage("send the cgroup tasks files") { try parentEnd.sendDescriptor(file, payload: [0]) }
                    }
                }
                if !bornInV2 {
                    // No clone3 CLONE_INTO_CGROUP (before 5.7): by pid, the slow way.
                    try manager.join(pid: pid, version: .v2)
                }
            }
            childEnd.close()
            fifo.close()
            console?.close()

            guard let startTime = Processes.startTime(of: initPid) else {
                // It died at once: its last message says why.
                _ = try channel.receive("starting")
                throw RuntimeError("container init exited during set-up")
            }
            var record = ContainerRecord(
                id: id, pid: initPid, pidStartTime: startTime, bundle: bundle.path, rootfs: bundle.rootfs,
                created: Clock.rfc3339Now(), owner: Owner.name(of: getuid()), annotations: spec.annotations, hooks: spec.hooks,
                ownsPidNamespace: plan.new.contains(.pid), cgroupPaths: cgroups?.paths ?? [])
            record.createdCgroupPaths = createdCgroups
            record.ephemeralRoot = treatment != nil
            // The warden starts while the init sets up (it needs only the init's pid
            // and the cgroups), and is in the first record saved.
            if let treatment {
                // The egress sockets are made in the sandbox's network namespace now
                // (EgressListener, with the capture for transparent egress), unless
                // another sandbox's warden serves that namespace already: this one's
                // then serves no egress (the owner's terms are this one's).
                // The owner of a joined namespace serves it even without an allowlist
                // (EgressNamespacePlan): with an empty one, everything refused.
                let servesEgress = egressNamespace.map(\.serves) ?? !treatment.networkAllow.isEmpty
                wardenStarted = try startWarden(treatment, servesEgress: servesEgress, watching: initPid,
                                                callerReapsInit: options.callerReapsInit, record: &record) {
                    try EgressListener.open(initPid: initPid, mode: EgressNamespacePlan.listenerMode(treatment),
                                            joined: plan.join(.network).map { ($0.fd, $0.path) })
                }
                if let egressNamespace, egressNamespace.serves {
                    try egressNamespace.recordOwner(id, wardenPid: record.wardenPid, wardenStartTime: record.wardenStartTime,
                                                    terms: SharedNetworkEgress.terms(of: treatment))
                    record.servesEgressNamespace = egressNamespace.key.name
                }
                PhaseTrace.mark("warden started")
            }
            // Recorded at once, so a create killed half way can still be deleted.
            try store.save(record)
            PhaseTrace.mark("state saved")

            // A cgroup frozen after the check above (or by someone else meanwhile)
            // would leave this wait with no end: look every second.
            let frozenCheck = { if let manager = cgroups { try manager.refuseIfFrozen() } }
            // The init runs createContainer hooks in this step: their timeouts extend it.
            let setupTimeout = SyncChannel.setupTimeout + (spec.hooks?.createContainer ?? []).reduce(0) { $0 + Double($1.timeout ?? 0) }
            var message = try channel.receive("setting up the container", timeout: setupTimeout, check: frozenCheck)
            if message == .readyForRuntimeHooks {
                // runtime-spec runtime.md: "creating" is lifecycle step 2 (making the
                // environment); prestart, createRuntime and createContainer are steps 3
                // to 5, after it, so they see "created" (runtime-tools' hooks_stdin
                // checks prestart; crun agrees; runc 1.1 says "creating").
                try channel.send(.runtimeHooksDone(state: try runCreateHooks(record)))
                message = try channel.receive("setting up the container", timeout: setupTimeout, check: frozenCheck)
            }
            if message == .seccompListenerFollows, let seccomp {
                try SeccompLoading.forwardListener(seccomp, channel: channel, pid: initPid,
                                                   stateJSON: try stateJSON(record, status: .creating))
                message = try channel.receive("setting up the container")
            }
            PhaseTrace.mark("init ready")
            guard message == .ready else {
                throw RuntimeError("unexpected message from container init while setting up the container")
            }
            if let pidFile = options.pidFile { try Bundle.writePidFile(pidFile, pid: initPid) }
            // The warden must be listening for the init's exit before anyone can start it.
            wardenStarted?.waitUntilReady()
            PhaseTrace.mark("warden ready")
            egressNamespaceSettled = true
            return record
        } catch {
            // Everything made so far, in CreateRollback's order (the warden first).
            var rollback = CreateRollback(store: store, id: id)
            rollback.createdCgroups = createdCgroups
            rollback.initPid = initPid
            rollback.wardenPid = wardenStarted?.pid
            rollback.undo(on: HostKernel())
            throw error
        }
    }

    /// Forks the container's init (directly, or through the intermediate process when
    /// the container has its own user or time namespace) and returns its host pid.
    /// `bornIn`: the container's v2 cgroup, for the init to start in (clone3
    /// CLONE_INTO_CGROUP) when the kernel can; `place` learns whether it did.
    private func forkInit(_ config: InitConfig, plan: NamespacePlan, parentEnd: FileDescriptor, channel: SyncChannel,
                          bornIn: FileDescriptor?, placeInCgroups place: (Int32, Bool) throws -> Void) throws -> Int32 {
        // The init is placed in the cgroups before it execs (it waits for that before
        // `ready`, and before rooting a cgroup namespace or mounting cgroups); all it
        // forks inherits them.
        func placeInCgroups(_ pid: Int32, bornInV2: Bool = false) throws {
            defer { PhaseTrace.mark("cgroups applied") }
            do {
                try place(pid, bornInV2)
            } catch {
                _ = Glibc.kill(pid, SIGKILL)
                throw RuntimeError("\(error)")
            }
            try channel.send(.cgroupsApplied)
        }
        if plan.needsIntermediate {
            // Born in the v2 cgroup, the intermediate's child, the init, is too.
            let (mid, midInV2) = try Processes.fork(preferringCgroup: bornIn)
            if mid == 0 {
                parentEnd.close()
                Intermediate(config: config).run()
            }
            config.channel.socket.close()
            // Reaped with a deadline: it exits on its own once it has sent the init's
            // pid, and is killed first on any failure before that.
            defer { Self.reap(mid) }
            let pid: Int32
            do {
                if plan.new.contains(.user) {
                    try channel.expect(.needIDMaps, "creating the user namespace")
                    try writeIDMaps(pid: mid, linux: config.spec.linux)
                    try channel.send(.idMapsWritten)
                }
                guard case .initPid(let received) = try channel.receive("creating namespaces") else {
                    throw RuntimeError("unexpected message from container init while creating namespaces")
                }
                pid = received
            } catch {
                // It may be blocked waiting for us (for idMapsWritten, after the kernel
                // refused a map): it must die before it is waited for.
                _ = Glibc.kill(mid, SIGKILL)
                throw error
            }
            // The init itself goes into the cgroups, while it mounts (the intermediate
            // is about to exit and never forks again).
            try placeInCgroups(pid, bornInV2: midInV2)
            return pid
        }
        // A new pid namespace is made by the fork itself (clone3 CLONE_NEWPID). A joined
        // one (or a new one on a kernel without clone3) applies to our next child only:
        // we switch our children's pid namespace for this one fork and switch it back.
        var forked: (pid: Int32, inCgroup: Bool)?
        if plan.new.contains(.pid) && plan.join(.pid) == nil {
            forked = try Processes.fork(preferringCgroup: bornIn, newNamespaces: NamespaceKind.pid.cloneFlag)
        }
        if forked == nil {
            var restore: FileDescriptor?
            if plan.new.contains(.pid) || plan.join(.pid) != nil {
                restore = try FileDescriptor.open("/proc/self/ns/pid", O_RDONLY)
                if let join = plan.join(.pid) {
                    try stage("join pid namespace \(join.path)") { try Namespaces.join(join.fd, kind: .pid, path: join.path) }
                } else {
                    try stage("unshare pid namespace") { try Namespaces.unshare(NamespaceKind.pid.cloneFlag) }
                }
            }
            forked = try Processes.fork(preferringCgroup: bornIn)
            if forked?.pid != 0, let restore {
                try Namespaces.join(restore, kind: .pid, path: "/proc/self/ns/pid")
            }
        }
        guard let (pid, bornInV2) = forked else { throw RuntimeError("fork: no child") }
        if pid == 0 {
            parentEnd.close()
            ContainerInit(config: config).run(enteringNamespaces: true)
        }
        try placeInCgroups(pid, bornInV2: bornInV2)
        return pid
    }

    /// The directory under which sandboxes without a linux.cgroupsPath get their
    /// cgroups (relative to the caller's own cgroup, as the default placement), so a
    /// sandbox id never names a host cgroup.
    static let sandboxCgroupParent = "safehouse"

    /// The cgroups path the container's directories are resolved from, and who chose
    /// it: the spec's linux.cgroupsPath when it has one; else, for a sandbox, one
    /// under `sandboxCgroupParent`; else nil (the container id, as runc).
    static func cgroupsPath(of spec: Spec, id: String, sandbox: Bool, systemdDriver: Bool) -> (String?, CgroupClaim.Origin) {
        if let given = spec.linux?.cgroupsPath, !given.isEmpty { return (given, .givenBySpec(given)) }
        if sandbox && !systemdDriver { return (sandboxCgroupParent + "/" + id, .chosenByRuntime) }
        return (nil, .chosenByRuntime)
    }

    /// Sends the init the network namespace the helper made (NamespacePlan.
    /// networkFromRuntime), waiting for the helper if it is still at work; without a
    /// helper (none could start), makes it here.
    private static func handOver(_ background: BackgroundNetworkNamespace?, through parentEnd: FileDescriptor) throws {
        try stage("unshare network namespace") {
            let network = try background?.take() ?? Namespaces.makeDetached(.network)
            defer { network.close() }
            try parentEnd.sendDescriptor(network, payload: [SyncMessage.networkNamespaceTag])
        }
    }

    /// Waits for the intermediate process to exit, killing it if it has not within
    /// a few seconds (it never waits for anything after its last message).
    private static func reap(_ pid: Int32) {
        if !Processes.waitForExit(pid, timeout: 5) {
            _ = Glibc.kill(pid, SIGKILL)
            _ = Processes.waitForExit(pid, timeout: 5)
        }
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }

    private func writeIDMaps(pid: Int32, linux: LinuxConfig?) throws {
        try stage("write uid_map") { try Files.write("/proc/\(pid)/uid_map", EphemeralRoot.mapText(linux?.uidMappings ?? [])) }
        try stage("write gid_map") { try Files.write("/proc/\(pid)/gid_map", EphemeralRoot.mapText(linux?.gidMappings ?? [])) }
    }

    /// runc's warning for capability names it will skip (newer than this runtime).
    private func warnAboutUnknownCapabilities(_ caps: LinuxCapabilities?) {
        guard let caps else { return }
        let all = [caps.bounding, caps.effective, caps.inheritable, caps.permitted, caps.ambient].compactMap { $0 }.joined()
        var unknown: [String] = []
        for name in all where capabilityNumber(name) == nil && !unknown.contains(name) { unknown.append(name) }
        unknown.sort()
        if !unknown.isEmpty {
            log.warning("ignoring unknown or unavailable capabilities: [\(unknown.joined(separator: " "))]")
        }
    }

    /// The state document hooks read on stdin.
    /// The runtime-spec state document, written by hand like the state file (hooks
    /// read it; a stopped container has no pid, as runc writes it).
    func stateJSON(_ record: ContainerRecord, status: ContainerStatus) throws -> String {
        var w = FlatJSONWriter()
        w.add("ociVersion", specVersion)
        w.add("id", record.id)
        w.add("status", status.rawValue)
        if status != .stopped { w.add("pid", Int64(record.pid)) }
        w.add("bundle", record.bundle)
        if let annotations = record.annotations, !annotations.isEmpty { w.add("annotations", annotations) }
        return w.string
    }
}

/// The runtime-spec version this runtime implements.
public let specVersion = "1.2.0"

extension NamespacePlan {
    /// Reads the spec's namespaces, opening every joined one now: a bad path fails
    /// before anything is created.
    init(spec: Spec) throws {
        for (index, ns) in (spec.linux?.namespaces ?? []).enumerated() {
            guard let kind = NamespaceKind(rawValue: ns.type.rawValue) else {
                throw RuntimeError("linux.namespaces[\(index)].type: unsupported namespace \(ns.type.rawValue)")
            }
            if let path = ns.path, !path.isEmpty {
                let fd = try stage("linux.namespaces[\(index)].path") { try FileDescriptor.open(path, O_RDONLY) }
                joins.append(Join(kind: kind, path: path, fd: fd))
            } else {
                new.insert(kind)
            }
        }
    }
}

/// The owner column of `list`/`state`: a user name from /etc/passwd, read directly
/// (a static binary must not use NSS).
enum Owner {
    static func name(of uid: uid_t) -> String {
        if uid == 0 { return "root" }
        if let text = try? Files.readString("/etc/passwd") {
            for line in text.split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count > 2, UInt32(f[2]) == uid { return String(f[0]) }
            }
        }
        return "#\(uid)"
    }
}
