import OCI

/// What `create` asks of whoever knows about sandboxes (the CLI, through the Agent
/// layer's policies): whether the container of `spec` is one, and what it gets.
public protocol SandboxProvider {
    /// Rewrites the spec an engine wrote before anything is made from it (a policy
    /// laid over it: PolicyOverlay); nil, with `spec` untouched, for a plain container
    /// or a spec that is a sandbox's already. A plain container must cost no more than
    /// one look at its annotations here. Thrown errors fail the create.
    func prepare(_ spec: inout Spec, id: String) throws -> SandboxOverlay?

    /// The treatment of container `id` made from `spec`; nil for a plain container.
    /// Thrown errors fail the create before anything is made.
    func treatment(for spec: Spec, id: String) throws -> SandboxConfig?
}

extension SandboxProvider {
    public func prepare(_ spec: inout Spec, id: String) throws -> SandboxOverlay? { nil }
}

/// What a provider that rewrote a spec asks of the runtime beyond the spec itself,
/// kept with the container's state for `exec` (SandboxOverlay.fileName).
public struct SandboxOverlay: Codable, Sendable, Equatable {
    /// A seccomp profile loaded as a second filter after the spec's own (the kernel
    /// runs every filter a process has; the most restrictive answer wins). The spec's
    /// `linux.seccomp` stays as the engine wrote it.
    public var addedSeccomp: LinuxSeccomp?
    /// The rewrite gave the container a user namespace of its own (the engine made
    /// none, and joined none of another container's).
    public var addedUserNamespace: Bool

    public init(addedSeccomp: LinuxSeccomp? = nil, addedUserNamespace: Bool = false) {
        self.addedSeccomp = addedSeccomp
        self.addedUserNamespace = addedUserNamespace
    }

    /// Its file in the container's state directory: present only for a container
    /// whose spec a provider rewrote.
    public static let fileName = "overlay.json"
}
