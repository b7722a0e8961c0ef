import Linux

/// Which engine runs a container: safehouse's own (`native`: namespaces, cgroups,
/// seccomp) or gVisor's `runsc` (`gvisor`: a user-space kernel between the container
/// and the host). Chosen once, at create, and recorded in the container's state
/// (`ContainerRecord.backend`), so that every later command on the id reaches the
/// same backend without being told again.
public enum Backend: String, Sendable, CaseIterable {
    case native, gvisor

    /// The annotation that picks a container's backend (`io.safehouse.backend`).
    public static let annotation = "io.safehouse.backend"

    /// Parses a backend name; an unknown one is an error naming `field`, the place
    /// the name came from (`--backend`, `annotations["io.safehouse.backend"]`, a
    /// config file's line).
    public static func parse(_ text: String, field: String) throws -> Backend {
        guard let backend = Backend(rawValue: text) else {
            throw RuntimeError("\(field): unknown backend \"\(text)\" (use native or gvisor)")
        }
        return backend
    }

    /// The backend a new container gets. The operator's command line is final; a
    /// container's annotation chooses otherwise; then the root's default (its config
    /// file, `BackendConfig`); then native. The flag outranks the annotation so that
    /// a runtime entry configured as `safehouse --backend gvisor` cannot be walked
    /// back to the weaker wall by whoever writes the container's annotations.
    public static func select(flag: Backend?, annotations: [String: String]?,
                              rootDefault: () throws -> Backend?) throws -> Backend {
        if let flag { return flag }
        if let text = annotations?[annotation] {
            return try parse(text, field: "annotations[\"\(annotation)\"]")
        }
        return try rootDefault() ?? .native
    }
}
