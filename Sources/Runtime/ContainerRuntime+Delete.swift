import ContainerCore
import Sandbox
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
        let lock: ContainerLock
        do { lock = try store.lock(id) } catch let error as RuntimeError where force && error.kind == .containerNotFound {
            // Another delete (a sandbox's warden cleaning up after its runtime died)
            // removed it while this one waited: gone is what force asked for.
            return
        }
        defer { lock.release() }
        let record: ContainerRecord
        do {
            record = try store.load(id)
        } catch {
            // No record, so no backend to ask: whatever a half-made create of either
            // left is removed here.
            guard force else { throw error }
            removeHalfMadeCgroups(id)
            try stage("remove the ephemeral root") { try EphemeralRoot.remove(EphemeralRoot.directory(root: store.root, id: id)) }
            GvisorBindSources.remove(root: store.root, id: id)
            try stage("remove \(dir)") { try Files.removeTree(dir) }
            return
        }
        try backend(for: record).delete(record, force: force)
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
        // `agent run --image` mounts the image's layers at rootfs/ (ImageRoot): not
        // removed with the bundle (a removal never crosses a mount point) until unmounted.
        try? Mounts.unmount(record.bundle + "/rootfs", detach: true)
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
}
