import Cgroups
import Linux

/// What a failed `create` undoes, and in which order. On a failure `create` fills it
/// with what it had made by then, and `undo` removes it all, so that nothing is left:
/// no process, no cgroup the runtime made, no ephemeral root, no state directory.
///
/// The order: the warden first (a create that failed has no exit to record, and no
/// warden must outlive it), then the init (killed and reaped, so nothing of it is
/// left in the cgroups), then the cgroup directories (empty once the init is gone),
/// then the ephemeral root (a mount in the state directory), then the state
/// directory with everything in it.
struct CreateRollback {
    let store: StateStore
    let id: String
    /// Cgroup directories the runtime made itself (CgroupClaim): only these are
    /// removed, never one the spec named that existed before.
    var createdCgroups: [String] = []
    /// The init, once forked (0 before).
    var initPid: Int32 = 0
    /// The sandbox's warden, once started.
    var wardenPid: Int32?

    /// Undoes everything recorded, each removal's failure ignored (the next still runs).
    func undo<Host: ContainerTeardown>(on host: Host) {
        if let warden = wardenPid {
            host.kill(warden, .kill)
            host.wait(warden)
        }
        if initPid > 0 {
            host.kill(initPid, .kill)
            _ = host.waitForExit(initPid, timeout: 5)
            host.reapAny()
        }
        try? host.removeCgroups(createdCgroups)
        try? host.removeEphemeralRoot(EphemeralRoot.directory(root: store.root, id: id))
        try? host.removeTree(store.directory(of: id))
    }
}

/// The kernel, and the removals of what the runtime makes on the host: cgroup
/// directories, an ephemeral root, a state directory.
protocol ContainerTeardown: Kernel {
    /// The cgroup directories, deepest first (CgroupManager.destroy).
    func removeCgroups(_ paths: [String]) throws
    /// Unmounts and removes an ephemeral root, if there is one (EphemeralRoot.remove).
    func removeEphemeralRoot(_ directory: String) throws
    /// A directory and everything in it.
    func removeTree(_ path: String) throws
}

extension HostKernel: ContainerTeardown {
    func removeCgroups(_ paths: [String]) throws { try CgroupManager(paths: paths).destroy() }
    func removeEphemeralRoot(_ directory: String) throws { try EphemeralRoot.remove(directory) }
    func removeTree(_ path: String) throws { try Files.removeTree(path) }
}
