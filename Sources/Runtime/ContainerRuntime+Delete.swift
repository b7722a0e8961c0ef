import ContainerCore
import Cgroups
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRuntime {
    /// `delete`: removes a stopped (or created) container; `force` kills a running one
    /// first. A container whose create died half way can always be removed with force.
    public func delete(id: String, force: Bool) throws {
        try ContainerID.validate(id)
        let dir = store.directory(of: id)
        // runc: deleting what is not there is an error, unless forced (engines clean
        // up with --force and expect success when it is already gone).
        guard Files.isDirectory(dir) else {
            if force { return }
            throw RuntimeError.containerNotFound(id)
        }
        let lock = try store.lock(id)
        defer { lock.release() }
        let record: ContainerRecord
        do {
            record = try store.load(id)
        } catch {
            guard force else { throw error }
            removeHalfMadeCgroups(id)
            try stage("remove the ephemeral root") { try EphemeralRoot.remove(EphemeralRoot.directory(root: store.root, id: id)) }
            try stage("remove \(dir)") { try Files.removeTree(dir) }
            return
        }
        if record.backend == .gvisor { return try deleteGvisor(record, force: force) }
        switch status(of: record) {
        case .stopped:
            break
        case .created:
            // runc deletes a created container without --force: it never ran.
            try stopAll(record)
        case .running, .paused, .creating:
            guard force else {
                throw RuntimeError("cannot delete container \(id) that is not stopped: \(status(of: record).rawValue)")
            }
            try stopAll(record)
        }
        recordEnd(record)
        try destroy(record)
        recordAudit(record.annotations, id, "delete", ["force": .string(force ? "true" : "false")])
    }

    /// Where `agent run` writes the bundle it generates, for the length of the run.
    public static let agentBundles = "/run/safehouse-agent"

    /// An `agent run` that was killed (SIGKILL) before it could clean up leaves its
    /// generated bundle, and its /output zone: what the sandbox wrote is copied back
    /// to the output directory (OutputZone), and the bundle, the runtime's, not the
    /// user's, goes with the container.
    func removeAgentBundle(_ record: ContainerRecord) {
        guard record.bundle == Self.agentBundles + "/" + record.id else { return }
        if let ownership = OutputOwnership.load(fromBundle: record.bundle) {
            OutputZone.finish(bundle: record.bundle, ownership: ownership)
        }
        InputZone.remove(bundle: record.bundle)
        // Never into a zone still there (the user's directories are mounted in them).
        guard !BundleZones.remain(inBundle: record.bundle) else { return }
        try? Files.removeTree(record.bundle)
    }

    /// A create that died before it wrote state.json may have made cgroups already:
    /// remove those it listed as its own before making them (CgroupClaim), with
    /// whatever is in them. Never a path worked out again from the config: that
    /// could name a cgroup that existed before, and is not the container's.
    func removeHalfMadeCgroups(_ id: String) {
        guard let created = CgroupClaim.recorded(inDirectory: store.directory(of: id)), !created.isEmpty else { return }
        let manager = CgroupManager(recordedPaths: created)
        for pid in manager.processes() { _ = Glibc.kill(pid, SIGKILL) }
        for pid in manager.processes() { _ = Processes.waitForExit(pid, timeout: 5) }
        try? manager.destroy()
    }

    /// Kills every process of the container and waits for the init to go.
    func stopAll(_ record: ContainerRecord) throws {
        if !record.cgroupPaths.isEmpty {
            // Every process in the container's cgroups and the ones it made under them,
            // each thawed first: a frozen process cannot act on SIGKILL (runc thaws
            // too), and a sub-cgroup left with a process cannot be removed.
            cgroupManager(of: record).killSubtree()
        }
        try? signalAll(record, .kill)
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
        removeAgentBundle(record)
        do {
            if !HookKind.poststop.hooks(in: record.hooks).isEmpty {
                try runHooks(.poststop, of: record.hooks, state: try stateJSON(record, status: .stopped),
                             annotations: record.annotations, id: record.id)
            }
        } catch {
            log.warning("\(error)")
        }
    }
}
