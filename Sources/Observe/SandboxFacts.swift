import AuditChain

/// What a viewer needs to know of a sandbox beyond its cgroups: the policy it was made
/// from, its time limit and where its audit log is. A spec that `agent spec` or
/// `agent run` generated carries all three in its annotations (the disk limit's
/// annotation says it is such a spec); an engine's container that names only a
/// policy (`io.safehouse.policy`) has them in that policy, which only the Agent
/// layer can read: the safehouse executable passes a resolver that asks it.
public struct SandboxFacts: Sendable, Equatable {
    public var policy: String
    /// Wall-clock limit from start, seconds; nil: none known.
    public var timeoutSeconds: Double?
    /// The audit log the warden appends to; nil: none known.
    public var auditLog: String?

    public init(policy: String, timeoutSeconds: Double?, auditLog: String?) {
        self.policy = policy
        self.timeoutSeconds = timeoutSeconds
        self.auditLog = auditLog
    }

    public static let policyAnnotation = "io.safehouse.policy"
    static let diskAnnotation = "io.safehouse.limits.disk"
    static let timeoutAnnotation = "io.safehouse.limits.timeout"
    static let auditAnnotation = "io.safehouse.audit"

    /// From the annotations alone; nil when they name no policy (not a sandbox). An
    /// engine's annotations (no disk limit) give the policy's name and no more.
    public static func fromAnnotations(_ annotations: [String: String]?, id: String) -> SandboxFacts? {
        guard let annotations, let policy = annotations[policyAnnotation] else { return nil }
        let generated = annotations[diskAnnotation] != nil
        let timeout = annotations[timeoutAnnotation].flatMap(Double.init).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        let log = annotations[auditAnnotation] ?? (generated ? AuditLog.defaultPath(id: id) : nil)
        return SandboxFacts(policy: policy, timeoutSeconds: timeout, auditLog: log)
    }
}
