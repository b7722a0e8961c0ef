import FoundationEssentials
import Linux
import OCI

/// The bundle runsc gets for an agent sandbox: the engine's config with the root
/// filesystem replaced by the ephemeral overlay's merged directory.
///
/// Why the merged directory and not runsc's own `--overlay2=root:memory`: the
/// promises are safehouse's, not runsc's. The overlay's upper layer is then a tmpfs
/// on the host, capped by the policy's disk limit (a writer meets ENOSPC), with the
/// same idmapped image under it as on native, and it is there after the sandbox ends
/// for the change set (ChangeSet) that goes to the summary and the audit log. runsc's
/// memory overlay keeps the upper layer inside the sandbox's memory, where no change
/// set can be read and only the memory limit caps it. runsc's gofer serves the merged
/// directory as any root filesystem.
enum GvisorSandboxBundle {
    static func write(spec: Spec, bundle: Bundle, id: String, stateDirectory: String, ephemeral: String, diskBytes: UInt64) throws -> String {
        let merged = try stage("ephemeral root for \(bundle.rootfs)") {
            try EphemeralRoot.mount(lower: bundle.rootfs, at: ephemeral, sizeBytes: diskBytes, linux: spec.linux)
        }
        var spec = spec
        spec.root?.path = merged
        // runsc applies the spec's resources only to a cgroup it is given; a sandbox
        // without one would stay in its caller's cgroups with no limits.
        if spec.linux?.cgroupsPath == nil || spec.linux?.cgroupsPath == "" {
            spec.linux?.cgroupsPath = "/safehouse-gvisor/" + id
        }
        let directory = stateDirectory + "/bundle"
        try Files.makeDirectories(directory, mode: 0o700)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try Files.writeAtomically(directory + "/config.json", Array(try encoder.encode(spec)), mode: 0o600)
        return directory
    }
}
