import ContainerCore
import Sandbox
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Where a sandbox's egress listeners go, decided from its spec before anything is
/// made (SharedNetworkEgress says why a joined namespace has one owner):
///
/// - a new network namespace: the sandbox's own; it opens its listeners (nil plan);
///   without an allowlist it needs none, as the namespace has loopback only;
/// - a namespace named by path (a CRI pod's, Podman's `ns:PATH` or its bridge
///   network's): the first sandbox to join serves it (`serve`), the others share its
///   listeners or are refused when their terms differ. A policy without an allowlist
///   serves it too, with an empty allowlist: the interfaces the engine gave the
///   namespace would otherwise stay a way out that `agent run`, whose namespace has
///   loopback only, never has. Every connection and DNS query is then captured and
///   refused by the warden, and the refusals are recorded like any egress decision;
/// - no network namespace, or a path to the host's own: refused, whatever the policy's
///   network. With an allowlist, the listeners and the capture rules would land in the
///   host's namespace, redirecting every connection of the host, and the host's
///   interfaces would still be a way out for the sandbox. Without one the policy
///   allows no network, and the container would keep the host's whole network (where
///   `agent run` gives it none); emptying the host's namespace is not the runtime's to
///   do, so the container must come in a namespace of its own (docs/engines.md).
struct EgressNamespacePlan {
    let registry: SharedNetworkEgress
    let key: SharedNetworkEgress.NamespaceKey
    let decision: SharedNetworkEgress.Decision
    /// Held from the decision until the owner is recorded (or the create fails).
    let lock: ContainerLock?

    /// The plan for a sandbox with `treatment`; nil when its namespace is its own. The
    /// host's is refused.
    static func make(_ treatment: SandboxConfig, spec: Spec, networkJoin: NamespacePlan.Join?, root: String, id: String) throws -> EgressNamespacePlan? {
        try refuseHostNetwork(spec, treatment)
        guard let join = networkJoin else { return nil }
        let registry = SharedNetworkEgress(root: root)
        let key = try SharedNetworkEgress.NamespaceKey(of: join.fd)
        let lock = try registry.lock()
        do {
            let decision = try registry.decide(key, path: join.path, id: id, terms: SharedNetworkEgress.terms(of: treatment))
            let serves = decision == .serve
            // A sharer records nothing: the registry goes at once.
            if !serves { lock.release() }
            return EgressNamespacePlan(registry: registry, key: key, decision: decision, lock: serves ? lock : nil)
        } catch {
            lock.release()
            throw error
        }
    }

    /// How the owner of a joined namespace opens its listeners: as its policy's
    /// `network.mode` says when it has an allowlist; without one, capture only (no
    /// proxies: nothing tells a program of them, and every connection and DNS query
    /// must reach the warden to be refused there and recorded).
    static func listenerMode(_ treatment: SandboxConfig) -> EgressMode {
        treatment.networkAllow.isEmpty ? .transparent : treatment.egressMode
    }

    /// Whether this sandbox opens the namespace's listeners.
    var serves: Bool { decision == .serve }

    /// Records the owner once its warden runs, and lets the registry go.
    func recordOwner(_ id: String, wardenPid: Int32, wardenStartTime: UInt64, terms: [String: String]) throws {
        defer { lock?.release() }
        try registry.record(SharedNetworkEgress.Owner(container: id, wardenPid: wardenPid, wardenStartTime: wardenStartTime, terms: terms), for: key)
    }

    /// A create that failed: the registry is let go, and the record removed if made.
    func abandon(_ id: String) {
        lock?.release()
        if serves { registry.release(key, ownedBy: id) }
    }

    /// Refuses any sandbox in the host's network namespace (see the type's comment), in
    /// one line naming the policy and what to do instead; the gvisor backend calls it
    /// too. Runs before anything is made.
    static func refuseHostNetwork(_ spec: Spec, _ treatment: SandboxConfig) throws {
        let network = spec.linux?.namespaces?.first(where: { $0.type == .network })
        let shared: String
        if let network {
            // A path that cannot be read is not judged here: opening it fails create anyway.
            guard let path = network.path, !path.isEmpty, let theirs = try? SharedNetworkEgress.NamespaceKey(path: path),
                  theirs == (try? SharedNetworkEgress.NamespaceKey(path: "/proc/self/ns/net")) else { return }
            shared = "linux.namespaces network path \(path) is the host's own"
        } else {
            shared = "linux.namespaces has no network entry, so the container would share it"
        }
        if !treatment.networkAllow.isEmpty {
            throw RuntimeError("egress: network.allow is refused in the host's network namespace (\(shared)): the egress listeners and capture rules would govern every process of the host, and the host's interfaces would stay a way around them; give the container a network namespace of its own")
        }
        throw RuntimeError("egress: policy \"\(treatment.policyName)\" allows no network, and the container shares the host's network namespace (\(shared)): it would keep every interface of the host; give the container a network namespace of its own (not Podman's --network host, not a pod with hostNetwork), where the policy leaves it loopback only, or what a network.allow in the policy names")
    }

    /// On gvisor, an allowlist needs a namespace runsc makes (GvisorEgressLink wires it
    /// to the warden's). In one an engine made (a pod's, joined by path), runsc's
    /// sandbox network copies that namespace's interfaces and routes into gVisor's
    /// netstack: the pod's own way out, around the warden; and a namespace a native
    /// sandbox's warden serves with an allowlist would be left by a gvisor container
    /// the same way. A policy without an allowlist runs there on runsc's network `none`
    /// (RunscFlags.network): gVisor's loopback alone, the namespace's interfaces unused,
    /// so it may join a namespace whose owner serves an empty allowlist too.
    static func refuseOnGvisor(_ treatment: SandboxConfig?, spec: Spec, root: String) throws {
        guard let treatment else { return }
        let egress = !treatment.networkAllow.isEmpty
        try refuseHostNetwork(spec, treatment)
        guard let path = spec.linux?.namespaces?.first(where: { $0.type == .network })?.path, !path.isEmpty else { return }
        let why = "runsc's sandbox network copies that namespace's interfaces and routes into gVisor's netstack, a way out around the warden's listeners and capture rules (use the native backend for egress in an engine's network namespace)"
        if egress {
            throw RuntimeError("egress: network.allow on the gvisor backend needs a network namespace runsc makes, and linux.namespaces names \(path): \(why)")
        }
        guard let key = try? SharedNetworkEgress.NamespaceKey(path: path) else { return }
        if let owner = SharedNetworkEgress(root: root).owner(of: key), owner.wardenLives,
           let allow = owner.terms["network.allow"], !allow.isEmpty {
            throw RuntimeError("egress: network namespace \(key) (linux.namespaces path \(path)) is served by container \(owner.container)'s egress allowlist, and a gvisor container cannot join it under those rules: \(why)")
        }
    }
}
