import OCI

/// What `create` asks of whoever knows about sandboxes (the CLI, through the Agent
/// layer's policies): whether the container of `spec` is one, and what it gets.
public protocol SandboxProvider {
    /// The treatment of container `id` made from `spec`; nil for a plain container.
    /// Thrown errors fail the create before anything is made.
    func treatment(for spec: Spec, id: String) throws -> SandboxConfig?
}
