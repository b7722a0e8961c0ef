import OCI
import Runtime

/// The policy of a spec an engine wrote (Podman, containerd, a CRI pod) carrying the
/// io.safehouse.policy annotation: create makes the container from the spec with the
/// policy laid over it (PolicyOverlay), and loads the policy's seccomp profile as a
/// second filter after the engine's.
///
/// A spec `agent spec` or `agent run` generated is the policy already (it carries
/// io.safehouse.limits.disk) and is left alone, as is a spec without the annotation.
public enum EngineSpecPolicy {
    /// The policy an engine's spec names, or nil: no annotation, or a generated spec.
    public static func policyName(of spec: Spec) -> String? {
        guard let annotations = spec.annotations, let name = annotations[SandboxAnnotation.policy] else { return nil }
        return annotations[SandboxAnnotation.disk] == nil ? name : nil
    }

    /// Resolves the annotation's policy as create does: a shipped profile without
    /// reading the policy directory, else a file in `library()`'s directory. Errors
    /// name `field`, where the name came from.
    public static func resolve(_ name: String, field: String = "annotations." + SandboxAnnotation.policy,
                               library: () throws -> PolicyLibrary) throws -> Policy {
        do { return try (Profiles.text(of: name) != nil ? PolicyLibrary(directories: []) : library()).resolve(name, from: .annotation) } catch {
            throw PolicyError("\(field): \(error)")
        }
    }

    /// `policy` laid over `spec`, with the host range a new user namespace maps to
    /// (HostIDRange, from `subordinateIDs`: /etc/subuid and /etc/subgid's entries).
    public static func overlay(_ policy: Policy, on spec: Spec,
                               subordinateIDs: () -> [HostIDRange.Entry] = HostIDRange.hostEntries) throws -> (spec: Spec, changes: [PolicyOverlay.Change]) {
        let needsRange = policy.user.userNamespace && !(spec.linux?.namespaces ?? []).contains { $0.type == .user }
        let hostID = needsRange ? try policy.user.hostID ?? HostIDRange.resolve(policy.user, entries: subordinateIDs()) : nil
        return try PolicyOverlay.apply(policy, to: spec, hostID: hostID)
    }

    /// What create does with `spec`: nil and `spec` untouched for a plain container or
    /// a generated spec; otherwise the spec overlaid and the policy's filter to load
    /// after the engine's.
    public static func prepare(_ spec: inout Spec, library: () throws -> PolicyLibrary,
                               subordinateIDs: () -> [HostIDRange.Entry] = HostIDRange.hostEntries) throws -> SandboxOverlay? {
        guard let name = policyName(of: spec) else { return nil }
        let policy = try resolve(name, library: library)
        spec = try overlay(policy, on: spec, subordinateIDs: subordinateIDs).spec
        return SandboxOverlay(addedSeccomp: AgentSeccomp.profile(policy.syscalls))
    }
}
