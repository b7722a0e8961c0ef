import Agent
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's answer to `create`'s question (SandboxProvider): a spec naming a policy
/// (io.safehouse.policy) gets the sandbox treatment, the ephemeral root and a warden
/// (SandboxConfig, read from the annotations by Agent's codec); any other is a plain container.
struct PolicySandboxes: SandboxProvider {
    /// The runtime root, whose safehouse.conf names the policy directory.
    let root: String

    /// An engine's spec naming a policy is made with the policy laid over it
    /// (EngineSpecPolicy); any other spec is left as it is, after one annotation lookup.
    func prepare(_ spec: inout Spec, id: String) throws -> SandboxOverlay? {
        try EngineSpecPolicy.prepare(&spec, library: { try PolicyLibrary.configured(root: root) })
    }

    func treatment(for spec: Spec, id: String) throws -> SandboxConfig? {
        // The policy directory comes from this root's safehouse.conf, read only
        // when an annotation names a policy that is not a shipped profile.
        guard var config = try SandboxConfig(annotations: spec.annotations, library: try PolicyLibrary.configured(root: root)) else {
            return nil
        }
        config.egressHosts = getenv("SAFEHOUSE_EGRESS_HOSTS").map { String(cString: $0) }
        // The values, from this process's environment or the host's files: in memory
        // only, on their way to the warden's configuration pipe.
        try config.readSecretValues()
        // The CA of TLS termination for the secrets' hosts, which the root's trust
        // store carries: made before anything else is.
        try config.makeEgressCA()
        // The warden appends to the same log as the runtime's records (AuditSink).
        config.auditLog = config.auditLog ?? AuditSink.defaultLog(id)
        // Before anything is made: no audit log, no sandbox (unless best-effort).
        try AuditPreflight.check(config.auditLog ?? "", key: config.auditKey, id: id, bestEffort: config.auditBestEffort)
        return config
    }
}
