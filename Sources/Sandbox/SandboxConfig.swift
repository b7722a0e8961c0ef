/// Everything a sandbox needs beyond its OCI spec: the ephemeral root's size, the
/// limits its warden enforces, the egress allowlist and how it is reached, the audit
/// log. The Agent layer makes it from a policy and carries it in the spec's
/// `io.safehouse.*` annotations (SandboxConfig+Annotations.swift in Agent: the one
/// codec); `create` gets it back from them. The runtime knows nothing of policies.
public struct SandboxConfig: Sendable, Equatable {
    /// The policy the sandbox was made from, as given (a profile name or a policy file).
    public var policyName: String
    /// The effective policy in a line (Policy.effectiveLine): for people reading the
    /// spec; nothing reads it back.
    public var effectivePolicy: String?
    /// Size of the tmpfs that holds the overlay's upper and work directories: the
    /// sandbox's disk limit.
    public var diskBytes: UInt64
    /// Wall-clock limit from start, enforced by the warden; nil for none.
    public var timeoutSeconds: Double?
    /// The egress allowlist; empty: no proxy, the sandbox has no way out at all.
    public var networkAllow: [String] = []
    /// The proxy's limits: connections at once, bytes each way, idle seconds.
    public var egressMaxConnections: Int?
    public var egressMaxBytes: UInt64?
    public var egressIdleTimeout: Double?
    /// Who the proxy asks about a destination no rule covers (network.decider), and
    /// the deadline in seconds (network.deciderTimeout; nil: 2).
    public var egressDecider: String?
    public var egressDeciderTimeout: Double?
    /// Credentials the proxy puts in (`secrets:`): where each value is on the host and
    /// the placeholder the sandbox's variable holds. Carried in the annotations.
    public var secrets: [SecretBinding] = []
    /// The values, by secret name: read on the host at create (PolicySandboxes),
    /// held in memory, handed to the warden through its configuration pipe. Never in
    /// an annotation, a file or a record.
    public var secretValues: [String: String] = [:]
    /// The sandbox's CA for TLS to the secrets' hosts (makeEgressCA), key included:
    /// made at create, in memory only, on its way to the warden's configuration pipe.
    package var egressCA: EgressCAMaterial?
    /// A bundle the proxy trusts beside the host's for the servers it terminates TLS
    /// for (network.upstreamCA: a path on the host). Carried in the annotations.
    public var egressUpstreamCA: String?
    /// Proxies the sandbox is told about, capture of every connection, or both.
    public var egressMode: EgressMode = .both
    /// The sandbox's audit log and its HMAC key file: the warden appends its records
    /// there (egress decisions as they are made, the exit when the runtime is not the
    /// init's parent). Nil: the default log of the sandbox's id.
    public var auditLog: String?
    public var auditKey: String?
    /// The sandbox may run without its audit log (`audit: best-effort`).
    public var auditBestEffort = false
    /// The spec's own OCI hooks write create, start and delete (`agent spec --hooks`),
    /// so safehouse, running it, does not write them twice.
    public var auditByHooks = false

    // The host's, never the spec's:

    /// The warden executable; nil: `safehouse-warden` next to this one.
    public var warden: String?
    /// A hosts file the proxy resolves names through before DNS (the operator's, from
    /// `SAFEHOUSE_EGRESS_HOSTS`; never the policy's).
    public var egressHosts: String?

    public init(policyName: String, diskBytes: UInt64) {
        self.policyName = policyName
        self.diskBytes = diskBytes
    }
}

/// One secret of a sandbox, without its value: the variable, its placeholder, where
/// the value is on the host (the caller's environment variable or a file), the hosts
/// it may go to and the header the proxy sets (nil: the placeholder is replaced where
/// it appears in headers).
public struct SecretBinding: Sendable, Equatable {
    public var name: String
    public var placeholder: String
    public var env: String?
    public var file: String?
    public var hosts: [String]
    public var header: String?

    public init(name: String, placeholder: String, env: String?, file: String?, hosts: [String], header: String?) {
        self.name = name
        self.placeholder = placeholder
        self.env = env
        self.file = file
        self.hosts = hosts
        self.header = header
    }
}
