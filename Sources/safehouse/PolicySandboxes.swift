import Agent
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's answer to `create`'s question (SandboxProvider): a spec naming a policy
/// (io.safehouse.policy) gets the sandbox treatment, the ephemeral root and a warden
/// (Sources/Agent/SandboxSpec.swift); any other is a plain container.
struct PolicySandboxes: SandboxProvider {
    /// The runtime root, whose safehouse.conf names the policy directory.
    let root: String

    /// An engine's spec naming a policy is made with the policy laid over it
    /// (EngineSpecPolicy); any other spec is left as it is, after one annotation lookup.
    func prepare(_ spec: inout Spec, id: String) throws -> SandboxOverlay? {
        try EngineSpecPolicy.prepare(&spec, library: { try PolicyLibrary.configured(root: root) })
    }

    func treatment(for spec: Spec, id: String) throws -> SandboxTreatment? {
        // The policy directory comes from this root's safehouse.conf, read only
        // when an annotation names a policy that is not a shipped profile.
        try SandboxSpec.treatment(for: spec.annotations, library: try PolicyLibrary.configured(root: root)).map {
            var treatment = SandboxTreatment(diskBytes: $0.diskBytes, timeoutSeconds: $0.timeoutSeconds,
                                             networkAllow: $0.network.allow.joined(separator: ","),
                                             egressHosts: getenv("SAFEHOUSE_EGRESS_HOSTS").map { String(cString: $0) },
                                             egressMaxConnections: $0.network.maxConnections, egressMaxBytes: $0.network.maxBytes,
                                             egressIdleTimeout: $0.network.idleTimeout, egressMode: $0.network.mode)
            // The warden appends to the same log as the runtime's records (AuditSink).
            if let annotations = spec.annotations, let policy = annotations[SandboxAnnotation.policy] {
                (treatment.auditLog, treatment.auditKey) = AuditSink.destination(annotations, id, policyName: policy)
                // Before anything is made: no audit log, no sandbox (unless best-effort).
                try AuditPreflight.check(treatment.auditLog ?? "", key: treatment.auditKey, id: id,
                                         bestEffort: AuditSink.bestEffort(annotations, policyName: policy))
            }
            return treatment
        }
    }
}
