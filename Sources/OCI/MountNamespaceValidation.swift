// Tracks the OCI runtime-spec v1.2.0 (config.md, config-linux.md).
//
// What a container without a mount namespace may ask for.

extension SpecValidator {
    /// Without its own mount namespace (no `mount` entry in linux.namespaces, new or
    /// joined by path) the container shares the host's mount table: every mount it
    /// made, every path it masked or made read-only, every device node it created,
    /// would change the host's filesystem and outlive the container. Such a container
    /// is only chrooted into its root, so each setting that needs the mount table is
    /// refused here, before anything is made. The masked and read-only paths carry
    /// runc's words ("unable to restrict sys entries without a private MNT
    /// namespace"); runc refuses only those, and makes the mounts, devices and
    /// propagation in the host's mount table, where they stay after the container.
    func checkMountNamespace() throws {
        if spec.linux?.namespace(.mount) != nil { return }
        let add = "(add {\"type\": \"mount\"} to linux.namespaces)"
        if !(spec.linux?.maskedPaths ?? []).isEmpty {
            throw OCIError(field: "linux.maskedPaths", message: "unable to restrict sys entries without a private MNT namespace \(add)")
        }
        if !(spec.linux?.readonlyPaths ?? []).isEmpty {
            throw OCIError(field: "linux.readonlyPaths", message: "unable to restrict sys entries without a private MNT namespace \(add)")
        }
        if !(spec.mounts ?? []).isEmpty {
            throw OCIError(field: "mounts", message: "unable to mount without a private MNT namespace: the mounts would be made in the host's mount table \(add)")
        }
        if !(spec.linux?.devices ?? []).isEmpty {
            throw OCIError(field: "linux.devices", message: "unable to create devices without a private MNT namespace \(add)")
        }
        if spec.root?.readonly ?? false {
            throw OCIError(field: "root.readonly", message: "unable to make the root read-only without a private MNT namespace \(add)")
        }
        if let propagation = spec.linux?.rootfsPropagation, !propagation.isEmpty {
            throw OCIError(field: "linux.rootfsPropagation", message: "unable to set the root's propagation without a private MNT namespace \(add)")
        }
    }
}
