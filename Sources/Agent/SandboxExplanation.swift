import OCI
import Runtime

/// What a policy gives an engine's container beyond the rewrite of its spec
/// (PolicyOverlay): the ephemeral root, the deadline, the network and the audit log,
/// as `safehouse agent explain` prints them. Always these four lines, in this order,
/// each `FIELD: WAS -> NOW` like the rewrite's, so the output stays stable for
/// scripts. Pure: the same config and policy give the same lines.
public enum SandboxExplanation {
    /// The four lines for `policy` on `spec`. `annotations` are the spec's (an
    /// `io.safehouse.audit` there names the log before the policy does).
    public static func lines(_ policy: Policy, spec: Spec) -> [String] {
        var config = SandboxConfig(policy, policyName: "")
        SandboxConfig.readAuditLog(spec.annotations ?? [:], into: &config, policy: policy)
        let root = spec.root?.path ?? "the image"
        var lines = ["root.path: \(root) -> an ephemeral overlay over \(root), its writes in a tmpfs of \(Quantity.describe(bytes: policy.limits.disk)) (limits.disk), gone at delete"]
        if let timeout = policy.limits.timeout {
            lines.append("limits.timeout: none -> \(Quantity.describe(seconds: timeout)) from start: the warden kills the container (SIGKILL: engines see 137, `run` exits 124) and the audit log says timeout")
        } else {
            lines.append("limits.timeout: none -> none (no deadline)")
        }
        lines.append(network(policy.network, spec: spec))
        let log = config.auditLog ?? "/var/log/safehouse/<container id>.audit.jsonl"
        lines.append("audit: none -> \(log) (a hash-chained log: create, start, exit, delete, the warden's report, egress decisions)")
        return lines
    }

    static func network(_ network: Policy.Network, spec: Spec) -> String {
        let namespace = spec.linux?.namespaces?.first { $0.type == .network }
        let was: String
        if let namespace {
            was = namespace.path.flatMap { $0.isEmpty ? nil : "network namespace \($0)" } ?? "a new network namespace"
        } else {
            was = "the host's network namespace"
        }
        let joined = namespace?.path.map { !$0.isEmpty } == true
        let gvisor = spec.annotations?[Backend.annotation] == Backend.gvisor.rawValue
        guard !network.allow.isEmpty else {
            guard namespace != nil else {
                return "network.allow: \(was) -> unchanged (the policy allows nothing, but the container shares the host's network: capture rules there would govern the whole host)"
            }
            guard joined else { return "network.allow: \(was) -> loopback only (the policy allows nothing)" }
            if gvisor {
                return "network.allow: \(was) -> loopback only, gVisor's own (the policy allows nothing: runsc's network none, the namespace's interfaces unused)"
            }
            return "network.allow: \(was) -> every outbound connection and DNS query refused by the warden and recorded, loopback kept (the policy allows nothing); the first sandbox of that namespace serves it, and one whose policy differs is refused"
        }
        guard namespace != nil else {
            return "network.allow: \(was) -> refused at create (the listeners and capture rules would govern the whole host)"
        }
        if joined, gvisor {
            return "network.allow: \(was) -> refused at create on the gvisor backend (runsc would take that namespace's interfaces into gVisor's netstack, a way around the warden)"
        }
        let how: String
        switch network.mode {
        case .explicit: how = "the proxies at 127.0.0.1:3128 (HTTP) and :1080 (SOCKS5), nothing else routed"
        case .transparent: how = "every TCP connection and DNS query captured"
        case .both: how = "the proxies at 127.0.0.1:3128 and :1080, and every TCP connection and DNS query captured"
        }
        var line = "network.allow: \(was) -> only \(network.allow.joined(separator: ",")) through the warden (network.mode \(network.mode.rawValue): \(how))"
        if joined {
            line += "; the first sandbox of that namespace serves it, and one whose policy differs is refused"
        }
        return line
    }
}
