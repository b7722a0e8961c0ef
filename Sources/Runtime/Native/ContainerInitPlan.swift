import OCI

/// The steps of the container's init, from the fork to execve, in the order it takes
/// them: ContainerInit runs this list, and tests read it.
///
/// The order follows runc's standard init, and the reasons are the kernel's:
/// - the namespaces come first: every later step acts inside them;
/// - the mounts need the new mount namespace, and happen while the runtime makes the
///   cgroups (a cgroup mount or a cgroup namespace waits for them, inside the step);
/// - the network namespace the runtime made is joined before the mounts are reported
///   done, so hooks never see the init in the host's network;
/// - prestart and createRuntime hooks (runtime side), then createContainer hooks,
///   see the container's namespaces and mounts, before pivot_root;
/// - pivot_root, then the console (it needs the container's devpts), hostname, and
///   sysctl (it needs the container's /proc, and must precede the read-only paths,
///   which cover /proc/sys);
/// - read-only and masked paths, then the read-only root: the last changes to the
///   file-system view;
/// - the move into its own cgroups, once the runtime has set the limits (so they hold
///   before the user's program), while still root with every capability;
/// - rlimits, the executable (found before `start`, so a missing program fails
///   `create`), the descriptor sweep, not-dumpable, seccomp before the user switch
///   unless no_new_privs (loading a filter then needs CAP_SYS_ADMIN, which the switch
///   drops), the user and capabilities;
/// - seccomp last with no_new_privs, `ready`, the wait for `start`, startContainer hooks, execve.
///
/// Phase marks (SAFEHOUSE_TRACE, and the fault injection faults.bats uses) sit
/// between steps, as steps of their own.
///
/// The cases are declared in the order they run: a plan is the set of those that
/// apply, run in declaration order (no array is built in the init: its type would be
/// instantiated at run time, on the hot path).
enum InitStep: UInt8 {
    /// Joins the namespaces named by path and creates the new ones (only when the
    /// runtime forked the init itself; the intermediate process did it otherwise).
    case enterNamespaces
    /// setsid: the container's process leads a session (and can own a terminal).
    case newSession
    /// A keyring of its own, so the container cannot read the host's session keys.
    case newSessionKeyring
    case oomScoreAdjust
    /// RootfsSetup.prepare: propagation, the rootfs bind, the spec's mounts, /dev.
    case mountRootfs
    /// The network namespace the runtime made (a no-op when it made none).
    case joinNetworkNamespace
    case mountsDone
    /// Unless a cgroup mount rooted it already: waits until the init is in its cgroups.
    case unshareCgroupNamespace
    /// prestart and createRuntime hooks in the runtime, then createContainer hooks here.
    case runtimeHooks
    case hooksDone
    /// pivot_root into the rootfs; an init that joins its own cgroups opens their
    /// files first, out of reach after it (so do the next two).
    case pivotRoot
    /// --no-pivot: the rootfs moved onto "/" (MS_MOVE) and chroot'ed into.
    case moveRoot
    /// chroot, for a container without a mount namespace of its own.
    case changeRoot
    case console
    case hostname
    case domainname
    case sysctl
    /// Read-only and masked paths, mounts made read-only late, the read-only root.
    case finishRootfs
    case rootFinished
    /// The init moves itself into its v1 cgroups once the runtime has set the limits,
    /// while it is still root with every capability, before the user's seccomp
    /// filter and the descriptor sweep.
    case joinOwnCgroups
    case limits
    /// args[0] found in the container (and HOME for the environment).
    case resolveExecutable
    case closeInheritedDescriptors
    case notDumpable
    case seccompBeforeUserSwitch
    /// Bounding set, cwd, the terminal's owner, groups, gid, uid, capabilities,
    /// umask, no_new_privs.
    case switchUser
    /// While it waits for `start` the init is PID 1 of its namespace, which ignores
    /// signals it has no handler for: `kill` of a created container must end it.
    case terminateOnCommonSignals
    case seccompLast
    case ready
    case waitForStart
    case startContainerHooks
}

/// The init's steps for one container, worked out from its configuration alone.
struct ContainerInitPlan: Equatable {
    /// Bit n: the step whose raw value is n runs.
    private var included: UInt64 = 0

    /// What shapes the list, read from the spec and the runtime's decisions.
    struct Shape {
        var entersNamespaces = true
        var ownsMountNamespace = true
        var newCgroupNamespace = false
        var noNewKeyring = false
        var oomScoreAdjust = false
        var runtimeHooks = false
        var startContainerHooks = false
        var noPivot = false
        var terminal = false
        var hostname = false
        var domainname = false
        var sysctl = false
        var seccomp = false
        var noNewPrivileges = false
    }

    init(_ shape: Shape) {
        func include(_ step: InitStep, when condition: Bool = true) {
            if condition { included |= 1 << UInt64(step.rawValue) }
        }
        include(.enterNamespaces, when: shape.entersNamespaces)
        include(.newSession)
        include(.newSessionKeyring, when: !shape.noNewKeyring)
        include(.oomScoreAdjust, when: shape.oomScoreAdjust)
        include(.mountRootfs, when: shape.ownsMountNamespace)
        include(.joinNetworkNamespace)
        include(.mountsDone)
        include(.unshareCgroupNamespace, when: shape.newCgroupNamespace)
        include(.runtimeHooks, when: shape.runtimeHooks)
        include(.hooksDone)
        include(.pivotRoot, when: shape.ownsMountNamespace && !shape.noPivot)
        include(.moveRoot, when: shape.ownsMountNamespace && shape.noPivot)
        include(.changeRoot, when: !shape.ownsMountNamespace)
        include(.console, when: shape.terminal)
        include(.hostname, when: shape.hostname)
        include(.domainname, when: shape.domainname)
        include(.sysctl, when: shape.sysctl)
        include(.finishRootfs, when: shape.ownsMountNamespace)
        include(.rootFinished)
        include(.joinOwnCgroups)
        include(.limits)
        include(.resolveExecutable)
        include(.closeInheritedDescriptors)
        include(.notDumpable)
        include(.seccompBeforeUserSwitch, when: shape.seccomp && !shape.noNewPrivileges)
        include(.switchUser)
        include(.terminateOnCommonSignals)
        include(.seccompLast, when: shape.seccomp && shape.noNewPrivileges)
        include(.ready)
        include(.waitForStart)
        include(.startContainerHooks, when: shape.startContainerHooks)
    }

    func contains(_ step: InitStep) -> Bool {
        included & (1 << UInt64(step.rawValue)) != 0
    }

    /// Calls `body` with each step of the plan, in order.
    func forEach(_ body: (InitStep) throws -> Void) rethrows {
        var raw: UInt8 = 0
        while let step = InitStep(rawValue: raw) {
            if contains(step) { try body(step) }
            raw += 1
        }
    }

    /// The steps in order (for tests and messages; the init uses forEach).
    var steps: [InitStep] {
        var list: [InitStep] = []
        forEach { list.append($0) }
        return list
    }

    /// The plan for `spec`'s init. `mountNamespace`, `cgroupNamespace`: whether the
    /// container creates them.
    init(spec: Spec, process: OCI.Process, entersNamespaces: Bool, mountNamespace: Bool, cgroupNamespace: Bool,
         noPivot: Bool, noNewKeyring: Bool, seccomp: Bool) {
        var shape = Shape()
        shape.entersNamespaces = entersNamespaces
        shape.ownsMountNamespace = mountNamespace
        shape.newCgroupNamespace = cgroupNamespace
        shape.noNewKeyring = noNewKeyring
        // With an intermediate process (entersNamespaces false), it wrote the value.
        shape.oomScoreAdjust = process.oomScoreAdj != nil && entersNamespaces
        shape.runtimeHooks = [HookKind.prestart, .createRuntime, .createContainer, .startContainer].contains {
            !$0.hooks(in: spec.hooks).isEmpty
        }
        shape.startContainerHooks = !HookKind.startContainer.hooks(in: spec.hooks).isEmpty
        shape.noPivot = noPivot
        shape.terminal = process.terminal ?? false
        shape.hostname = !(spec.hostname ?? "").isEmpty
        shape.domainname = !(spec.domainname ?? "").isEmpty
        shape.sysctl = !(spec.linux?.sysctl ?? [:]).isEmpty
        shape.seccomp = seccomp
        shape.noNewPrivileges = process.noNewPrivileges ?? false
        self.init(shape)
    }
}
