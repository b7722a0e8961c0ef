import ContainerCore
import Sandbox
import Cgroups
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension NativeBackend {
    /// `delete`: removes a stopped (or created) container; `force` kills a live one first.
    func delete(_ record: ContainerRecord, force: Bool) throws {
        let current = status(of: record)
        try current.canDelete(record.id, force: force)
        // runc deletes a created container without --force: it never ran.
        if current != .stopped { try stopAll(record) }
        runtime.recordEnd(record)
        try destroy(record)
        runtime.recordAudit(record.annotations, record.id, "delete", ["force": .string(force ? "true" : "false")])
    }

    /// Kills every process of the container and waits for the init to go.
    func stopAll(_ record: ContainerRecord) throws {
        if !record.cgroupPaths.isEmpty {
            // Every process in the container's cgroups and the ones it made under them,
            // each thawed first: a frozen process cannot act on SIGKILL (runc thaws
            // too), and a sub-cgroup left with a process cannot be removed.
            cgroupManager(of: record).killSubtree()
        }
        record.signalAll(.kill)
        if Freezer.isFrozen(cgroupPaths: record.cgroupPaths) {
            try? cgroupManager(of: record).thaw()
        }
        if !Processes.waitForExit(record.pid, timeout: 10) {
            throw RuntimeError("container \(record.id): init process \(record.pid) did not exit after SIGKILL")
        }
    }

    /// Removes the container's state, then runs poststop hooks (their failures are
    /// warnings, as the runtime spec says).
    func destroy(_ record: ContainerRecord) throws {
        PhaseTrace.mark("destroying")
        do {
            // Not a cgroup that existed before the container: it is someone else's.
            try CgroupManager(paths: record.createdCgroupPaths ?? record.cgroupPaths).destroyTree()
        } catch {
            throw RuntimeError("\(error)")
        }
        PhaseTrace.mark("cgroups removed")
        let dir = store.directory(of: record.id)
        if record.ephemeralRoot {
            // The warden writes its report when the init ends: let it finish first.
            if let warden = record.liveWardenPid { _ = Processes.waitForExit(warden, timeout: 2) }
            if log.debugEnabled {
                let changes = ChangeSet.compute(upper: EphemeralRoot.directory(root: store.root, id: record.id) + "/upper", lower: record.rootfs)
                log.debug("container \(record.id): ephemeral root changes: \(changes.count(.created)) created, \(changes.count(.modified)) modified, \(changes.count(.deleted)) deleted")
            }
        }
        // Always tried (cheap): a create that died half way may have left the mounts.
        try stage("remove the ephemeral root") { try EphemeralRoot.remove(EphemeralRoot.directory(root: store.root, id: record.id)) }
        PhaseTrace.mark("ephemeral root removed")
        try stage("remove \(dir)") { try store.removeDirectory(of: record.id) }
        // The namespace it served has no listeners once its warden is gone: the next
        // sandbox to join it serves it (SharedNetworkEgress).
        if let served = record.servesEgressNamespace.flatMap(SharedNetworkEgress.NamespaceKey.init(name:)) {
            SharedNetworkEgress(root: store.root).release(served, ownedBy: record.id)
        }
        runtime.removeAgentBundle(record)
        runtime.runHooksWarning(.poststop, of: record, status: .stopped)
    }
}
