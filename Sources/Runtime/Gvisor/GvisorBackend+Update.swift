import ContainerCore
import Cgroups
import OCI

extension GvisorBackend {
    /// `update`: this runsc has no update command. runsc applies a spec's resources to
    /// the sandbox's cgroups at create (sentry, gofer and the container together), so
    /// safehouse changes the same files, with the same conversions as native; a
    /// sandbox without cgroups of its own (no cgroupsPath, a foreground run) refuses.
    func update(_ record: ContainerRecord, resources: LinuxResources) throws {
        try state(of: record).status.canUpdate(record.id)
        guard !record.cgroupPaths.isEmpty else {
            throw RuntimeError("update \(record.id): the gvisor sandbox has no cgroups of its own (runsc left it in its caller's): nothing to update")
        }
        try stage("update \(record.id)") {
            try GvisorCgroups.manager(for: record.cgroupPaths).apply(resources: resources, includeRuncDefaultDevices: false)
        }
    }
}
