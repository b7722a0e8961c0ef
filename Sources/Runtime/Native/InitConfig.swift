import ContainerCore
import Cgroups
import Linux
import OCI
import Seccomp

/// Everything the container's init process needs, prepared and validated by the
/// runtime before the first fork (youki's "before any side effects"): the init only
/// acts on it.
struct InitConfig {
    let id: String
    let spec: Spec
    let process: OCI.Process
    /// Absolute host path of the root filesystem.
    let rootfs: String
    let bundle: String
    let channel: SyncChannel
    /// The exec FIFO, opened read-write by the runtime: the init blocks reading it
    /// until `start` writes a byte.
    let execFifo: FileDescriptor
    /// The engine's console socket, connected, when the process wants a terminal.
    let consoleSocket: FileDescriptor?
    let namespaces: NamespacePlan
    let noPivot: Bool
    let noNewKeyring: Bool
    /// Descriptors 3..<3+preserveFds stay open into the container (LISTEN_FDS and friends).
    let preserveFds: Int
    /// The runtime's lock on the container directory: the init closes its inherited
    /// copy at once, or the lock would outlive `create` until the exec.
    let lock: ContainerLock
    /// The container's seccomp filter, compiled by the runtime (crun's trick: the
    /// parent compiles, the child only loads).
    let seccomp: SeccompProgram?
    /// A second filter, the sandbox provider's (SandboxOverlay.addedSeccomp), loaded
    /// right after the first: the kernel runs both.
    var addedSeccomp: SeccompProgram? = nil
    /// The init moves itself into the container's v1 cgroups (CgroupManager.joinSelf:
    /// no move by pid, which waits for an RCU grace period) through their `tasks`
    /// files. Root in the runtime's user namespace, it opens them itself; in a user
    /// namespace of its own (behind an intermediate) the host's cgroup files are not
    /// its to open, and the runtime sends it the files it opened (the kernel checks
    /// the opener's credentials). Any v2 cgroup it is born in.
    let cgroupFilesFromRuntime: Bool
    /// The container's cgroups, filled in when the runtime reports them (after the
    /// fork: working them out is kept off the init's path).
    let cgroups = CgroupPlacementBox()
    /// Bind sources opened on the host side, attached by the init from descriptors.
    var bindSources = HostBindSources.none
}

/// Shared by the init's set-up steps; a fork copies its contents, as intended.
final class CgroupPlacementBox {
    var placement = CgroupPlacement()
}

/// Which namespaces the container creates and which it joins, decided by the runtime.
struct NamespacePlan {
    struct Join {
        let kind: NamespaceKind
        let path: String
        let fd: FileDescriptor
    }

    /// Namespaces joined by path, each opened by the runtime before forking.
    var joins: [Join] = []
    /// Namespaces to create, as kinds.
    var new: NamespaceKinds = []

    var joinsUser: Bool { joins.contains { $0.kind == .user } }
    var join: (NamespaceKind) -> Join? { { kind in joins.first { $0.kind == kind } } }

    /// User and time namespaces (new or joined) need a process between the runtime
    /// and the init: a new pid or time namespace applies to children only and must be
    /// owned by the container's user namespace, and the runtime itself must stay in
    /// the host's namespaces to write state. Everything else is entered by the init.
    var needsIntermediate: Bool {
        new.contains(.user) || joinsUser || new.contains(.time)
    }

    /// The new network namespace is made by the runtime, not the init, and handed to
    /// it (NetworkNamespaceHandoff). Making one costs 0.4-0.5 ms of kernel time here
    /// (unshare(CLONE_NEWNET) alone, against 0.05-0.08 ms for mount and ipc), and
    /// the init's set-up is the critical path of every create: done by the runtime
    /// just after the fork, it overlaps with the init's first mounts. The init joins
    /// it before the first sysfs mount (sysfs shows its mounter's network), before
    /// anything it receives from the runtime, and before its mounts are reported done,
    /// so hooks and the user's process never see the init in the host's network.
    /// Only where the two are equivalent: root in the runtime's user namespace (no
    /// user namespace to own it, no intermediate) and a mount namespace of its own.
    var networkFromRuntime = false

    /// Whether the handoff applies to this plan (see networkFromRuntime).
    var canTakeNetworkFromRuntime: Bool {
        new.contains(.network) && new.contains(.mount) && !needsIntermediate
    }

    /// The flags unshare(2) creates in one call, beyond user, pid, time and cgroup,
    /// which have their own steps (a cgroup namespace must follow cgroup placement),
    /// and the network namespace when the runtime makes it.
    var unshareFlags: Int32 {
        var own: NamespaceKinds = [.user, .pid, .time, .cgroup]
        if networkFromRuntime { own.insert(.network) }
        return new.cloneFlags & ~own.cloneFlags
    }
}

/// A set of namespace kinds as their clone flags. Not a Set<NamespaceKind>: every
/// Hashable type a process first puts in a Set costs a scan of all the protocol
/// conformance records in the binary (about 0.1 ms here), and this is on every create.
struct NamespaceKinds: ExpressibleByArrayLiteral, Equatable {
    private(set) var cloneFlags: Int32 = 0

    init(arrayLiteral kinds: NamespaceKind...) { self.init(kinds) }
    init(_ kinds: [NamespaceKind]) { for k in kinds { insert(k) } }

    func contains(_ kind: NamespaceKind) -> Bool { cloneFlags & kind.cloneFlag != 0 }
    mutating func insert(_ kind: NamespaceKind) { cloneFlags |= kind.cloneFlag }
}
