import ContainerCore
import Cgroups
import FoundationEssentials
import Linux
import OCI
import Seccomp

/// The container's init process: from the fork to execve of the user's program.
///
/// It runs in a child forked from the single-threaded runtime, so plain Swift is safe
/// here (no other thread can hold a lock: FACTS "Namespaces, clone and signals"). Each
/// step is named; a failure goes back to the runtime as one line with that name, and
/// the init exits without exec'ing anything. The steps, their order and the reasons
/// for it are ContainerInitPlan's; this runs them.
struct ContainerInit<K: Kernel> {
    /// Every privileged call of the set-up goes through it.
    let kernel: K
    let config: InitConfig

    /// Runs the whole set-up and execs; never returns.
    func run(enteringNamespaces: Bool) -> Never {
        config.lock.release()
        PhaseTrace.mark("init forked")
        do {
            try setUp(plan(enteringNamespaces: enteringNamespaces))
        } catch {
            try? config.channel.send(.failure("\(error)"))
            Processes.exitImmediately(1)
        }
    }

    /// The steps for this container.
    func plan(enteringNamespaces: Bool) -> ContainerInitPlan {
        let namespaces = config.namespaces
        return ContainerInitPlan(spec: config.spec, process: config.process, entersNamespaces: enteringNamespaces,
                                 mountNamespace: namespaces.new.contains(.mount), cgroupNamespace: namespaces.new.contains(.cgroup),
                                 noPivot: config.noPivot, noNewKeyring: config.noNewKeyring,
                                 seccomp: config.seccomp != nil || config.addedSeccomp != nil)
    }

    // MARK: namespaces

    /// Joins the namespaces named by path and creates the new ones (except user, pid
    /// and time, which the runtime or the intermediate process arranged already).
    func enterNamespaces(_ plan: NamespacePlan) throws {
        // Joins first, while the process still has the host's privileges; then the
        // new namespaces, created by (and owned by) the container's user namespace.
        for join in plan.joins where join.kind != .user && join.kind != .pid && join.kind != .time {
            try stage("join \(join.kind.rawValue) namespace \(join.path)") {
                try kernel.join(join.fd, kind: join.kind, path: join.path)
            }
        }
        let flags = plan.unshareFlags
        if flags != 0 {
            try stage("unshare namespaces") { try kernel.unshare(flags) }
        }
    }

    // MARK: the set-up

    /// Runs `plan`'s steps, then execs the user's program.
    ///
    /// The runtime makes the cgroup directories and sets the limits while this
    /// process sets up its mounts; it moves itself in after that, at the first step
    /// that needs it: a cgroup namespace, or joinOwnCgroups.
    func setUp(_ plan: ContainerInitPlan) throws -> Never {
        let spec = config.spec
        let process = config.process
        var rootfs = RootfsSetup(kernel: kernel, spec: spec, rootfs: config.rootfs, bundle: config.bundle,
                                 userNamespace: config.namespaces.new.contains(.user) || config.namespaces.joinsUser,
                                 newCgroupNamespace: config.namespaces.new.contains(.cgroup),
                                 cgroups: config.cgroups)
        rootfs.sysfsWaits = config.namespaces.networkFromRuntime
        rootfs.bindSources = config.bindSources
        // The runtime makes the cgroup directories, then sets the limits. The
        // directories are enough for a bind mount of them; a cgroup namespace must
        // wait for the move.
        let network = NetworkNamespaceHandoff(channel: config.channel, pending: config.namespaces.networkFromRuntime)
        var cgroups = CgroupProgress(channel: config.channel, box: config.cgroups, network: network,
                                     filesFromRuntime: config.cgroupFilesFromRuntime)
        let newCgroupNamespace = config.namespaces.new.contains(.cgroup)
        let identity = ProcessSetup(process: process, userNamespace: config.namespaces.new.contains(.user) || config.namespaces.joinsUser)
        var state = ""
        var executable = ""
        var environment: [String] = []
        var ranStartContainerHooks = false

        try plan.forEach { step in
            switch step {
            case .enterNamespaces:
                try enterNamespaces(config.namespaces)
            case .newSession:
                Processes.startSession()
            case .newSessionKeyring:
                _ = Keyring.joinNewSession(named: "_ses." + config.id)
            case .oomScoreAdjust:
                if let adj = process.oomScoreAdj {
                    try stage("oom_score_adj") { try kernel.write("/proc/self/oom_score_adj", String(adj)) }
                }
            case .mountRootfs:
                try rootfs.prepare(beforeSysfsMount: { try network.joinIfPending() }, beforeCgroupMount: {
                    if newCgroupNamespace {
                        try cgroups.waitUntilJoined()
                        try stage("unshare cgroup namespace") { try kernel.unshare(NamespaceKind.cgroup.cloneFlag) }
                    } else {
                        try cgroups.waitUntilDirectoriesExist()
                    }
                })
            case .joinNetworkNamespace:
                try network.joinIfPending()
            case .unshareCgroupNamespace:
                // Already done before a cgroup mount (the wait is over then).
                if cgroups.pending != .none {
                    try cgroups.waitUntilJoined()
                    try stage("unshare cgroup namespace") { try kernel.unshare(NamespaceKind.cgroup.cloneFlag) }
                }
            case .runtimeHooks:
                // Hooks see the container in its cgroups (and the channel carries nothing
                // else from the runtime past this point).
                try cgroups.waitUntilJoined()
                try config.channel.send(.readyForRuntimeHooks)
                guard case .runtimeHooksDone(let s) = try config.channel.receive("running createRuntime hooks", timeout: nil) else {
                    throw RuntimeError("unexpected message while running createRuntime hooks")
                }
                state = s
                try HookRunner.run(.createContainer, of: spec.hooks, state: state)
            case .pivotRoot, .moveRoot:
                // The host's cgroup files are out of reach once the root changes: an init
                // that opens them itself does so first (on `cgroupDirectoriesMade`).
                if !config.cgroupFilesFromRuntime { try cgroups.waitUntilDirectoriesExist() }
                try stage("pivot_root") { try rootfs.enterRoot(noPivot: step == .moveRoot) }
            case .changeRoot:
                if !config.cgroupFilesFromRuntime { try cgroups.waitUntilDirectoriesExist() }
                try stage("chroot") { try rootfs.enterRootWithoutMountNamespace() }
            case .console:
                // Without its own mount namespace the bind on /dev/console would land
                // in the host's mount table: the pty is then only the stdio.
                try stage("console") {
                    try Console.setUp(socket: config.consoleSocket, size: process.consoleSize,
                                      bindConsole: !plan.contains(.changeRoot))
                }
            case .hostname:
                if let hostname = spec.hostname { try stage("sethostname") { try kernel.setHostname(hostname) } }
            case .domainname:
                if let domain = spec.domainname { try stage("setdomainname") { try kernel.setDomainname(domain) } }
            case .sysctl:
                for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
                    try stage("sysctl \(key)") {
                        try kernel.write("/proc/sys/" + key.replacingDots(), value)
                    }
                }
            case .finishRootfs:
                try rootfs.finish()
            case .joinOwnCgroups:
                // While still root with every capability, before the user's seccomp
                // filter and the descriptor sweep.
                try cgroups.waitUntilJoined()
            case .limits:
                try identity.applyLimits()
            case .resolveExecutable:
                executable = try identity.resolveExecutable()
                environment = identity.environment()
            case .closeInheritedDescriptors:
                try identity.closeInheritedDescriptors(keeping: config.preserveFds, plus: [config.execFifo, config.channel.socket])
            case .notDumpable:
                // Not dumpable from here until the user's program is exec'd (execve makes
                // it dumpable again): a process of the container (a joined pid namespace)
                // can then not open /proc/<this>/exe, the host's safehouse binary, and
                // overwrite it once the runtime exits (CVE-2019-5736). Before seccomp,
                // which may forbid prctl; after every write to /proc/self (in a user
                // namespace those files then belong to the host's root).
                try stage("prctl(PR_SET_DUMPABLE, 0)") { try ProcessControl.setDumpable(false) }
            case .seccompBeforeUserSwitch, .seccompLast:
                // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
                // user switch drops: it is loaded first (runc's order). With it, last,
                // while the runtime is still there to take a notify listener's descriptor.
                // The provider's filter after the spec's, in the same step (with
                // no_new_privs, which the overlay turns on, last): each call must now
                // pass both.
                try SeccompLoading.install(config.seccomp, added: config.addedSeccomp, channel: config.channel)
            case .switchUser:
                try identity.switchUser()
            case .terminateOnCommonSignals:
                // runc's Go init exits on them too.
                Signals.terminateOnCommonSignals()
            case .ready:
                // Set-up is complete: report and wait for `start`.
                try config.channel.send(.ready)
                config.channel.socket.close()
            case .waitForStart:
                _ = try stage("waiting for start") { try config.execFifo.read(upTo: 1) }
                config.execFifo.close()
            case .startContainerHooks:
                do {
                    // These hooks see the container as `created`: start has begun but the
                    // program has not (runc passes the same).
                    try HookRunner.run(.startContainer, of: spec.hooks, state: State.withStatus(.created, of: state))
                } catch {
                    Self.printError("\(error)")
                    Processes.exitImmediately(1)
                }
                ranStartContainerHooks = true
            case .mountsDone:
                PhaseTrace.mark("mounts done")
            case .hooksDone:
                PhaseTrace.mark("hooks done")
            case .rootFinished:
                PhaseTrace.mark("root finished")
            }
        }

        if ranStartContainerHooks {
            // Running them may have changed dispositions: all of them back.
            Signals.resetForExec()
        } else {
            // Only the common signals' handlers are left to reset.
            Signals.resetCommonForExec()
        }
        let err = Processes.exec(path: executable, args: process.args ?? [], env: environment)
        Self.printError("exec \(executable): \(SystemError.message(for: err.errno))")
        Processes.exitImmediately(127)
    }

    static func printError(_ text: String) {
        Processes.writeToStandardError("safehouse: \(text)\n")
    }
}

extension ContainerInit where K == HostKernel {
    init(config: InitConfig) {
        self.init(kernel: HostKernel(), config: config)
    }
}

/// Where the runtime is in placing the init in its cgroups, as the init sees it.
struct CgroupProgress {
    enum Pending { case directories, join, none }
    let channel: SyncChannel
    let box: CgroupPlacementBox
    /// What the runtime sends before the cgroup messages.
    let network: NetworkNamespaceHandoff?
    /// The `tasks` files of its v1 cgroups come from the runtime, sent just before
    /// `cgroupsApplied` (InitConfig.cgroupFilesFromRuntime); otherwise the init opens
    /// them as soon as the directories exist.
    let filesFromRuntime: Bool
    fileprivate var tasksFiles: [FileDescriptor] = []
    fileprivate var v1Directories: [String] = []
    private(set) var pending = Pending.directories

    mutating func waitUntilDirectoriesExist() throws {
        guard pending == .directories else { return }
        try network?.joinIfPending()
        guard case .cgroupDirectoriesMade(let text) = try channel.receive("making cgroups", timeout: nil) else {
            throw RuntimeError("unexpected message from the runtime while making cgroups")
        }
        box.placement = CgroupPlacement(decoding: text)
        v1Directories = box.placement.v1Directories
        if !filesFromRuntime {
            tasksFiles = try stage("open the cgroup tasks files") { try CgroupManager.openTasksFiles(in: v1Directories) }
        }
        pending = .join
    }

    mutating func waitUntilJoined() throws {
        try waitUntilDirectoriesExist()
        guard pending == .join else { return }
        PhaseTrace.mark("waiting for cgroups")
        if filesFromRuntime {
            for _ in v1Directories {
                tasksFiles.append(try stage("receive the cgroup tasks files") { try channel.socket.receiveDescriptor() })
            }
        }
        try channel.expect(.cgroupsApplied, "joining cgroups", timeout: nil)
        let files = tasksFiles
        tasksFiles = []
        try stage("join cgroups") { try CgroupManager.joinSelf(through: files, directories: v1Directories) }
        PhaseTrace.mark("cgroups joined")
        pending = .none
    }
}

/// The init's side of NamespacePlan.networkFromRuntime: the runtime's first message is
/// the network namespace it made, as a descriptor; the init joins it once, at the
/// first step that needs it.
final class NetworkNamespaceHandoff {
    private let channel: SyncChannel
    private var pending: Bool

    init(channel: SyncChannel, pending: Bool) {
        self.channel = channel
        self.pending = pending
    }

    func joinIfPending() throws {
        guard pending else { return }
        pending = false
        let namespace = try stage("receive the network namespace from the runtime") {
            try channel.socket.receiveDescriptor()
        }
        defer { namespace.close() }
        try stage("join the network namespace") {
            try Namespaces.join(namespace, kind: .network, path: "the runtime's new network namespace")
        }
    }
}

extension State {
    /// The same state document with another status.
    static func withStatus(_ status: ContainerStatus, of json: String) -> String {
        guard var state = try? State.decode(from: Data(json.utf8)) else { return json }
        state.status = status
        return String(decoding: state.encodedJSON(pretty: false), as: UTF8.self)
    }
}

extension String {
    /// "net.ipv4.ip_forward" -> "net/ipv4/ip_forward" (sysctl key to /proc/sys path).
    func replacingDots() -> String {
        String(self.map { $0 == "." ? "/" : $0 })
    }
}
