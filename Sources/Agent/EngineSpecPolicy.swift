import Linux
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
        if policy.user.userNamespace { joinPodUserNamespace(&spec) }
        try refuseHostRootInJoinedUserNamespace(spec)
        let hadUserNamespace = (spec.linux?.namespaces ?? []).contains { $0.type == .user }
        spec = try overlay(policy, on: spec, subordinateIDs: subordinateIDs).spec
        let hasUserNamespace = (spec.linux?.namespaces ?? []).contains { $0.type == .user }
        return SandboxOverlay(addedSeccomp: AgentSeccomp.profile(policy.syscalls), addedUserNamespace: hasUserNamespace && !hadUserNamespace)
    }

    /// A container that joins another's namespaces by /proc path (a CRI pod's
    /// containers join its sandbox container's ipc, uts, pid, network) joins that
    /// process's user namespace too when it is not the host's: a namespace owned by
    /// another user namespace than the container's cannot be used for what it owns
    /// (an mqueue mount in the pod's ipc namespace, sysfs in its network). The
    /// mappings are the namespace's own (from /proc), so the ephemeral root is idmapped
    /// by them and PolicyOverlay checks them (no container id may be host root).
    public static func joinPodUserNamespace(_ spec: inout Spec, proc: String = "/proc") {
        guard var linux = spec.linux, var namespaces = linux.namespaces, !namespaces.contains(where: { $0.type == .user }) else { return }
        for ns in namespaces {
            guard let path = ns.path, path.hasPrefix(proc + "/") else { continue }
            let parts = path.dropFirst(proc.count + 1).split(separator: "/")
            guard parts.count == 3, parts[1] == "ns", let pid = Int32(parts[0]) else { continue }
            let user = "\(proc)/\(pid)/ns/user"
            guard let theirs = try? Files.readLink(user), theirs != (try? Files.readLink(proc + "/self/ns/user")),
                  let uids = idMappings(proc + "/\(pid)/uid_map"), let gids = idMappings(proc + "/\(pid)/gid_map") else { return }
            namespaces.append(LinuxNamespace(type: .user, path: user))
            linux.namespaces = namespaces
            linux.uidMappings = uids
            linux.gidMappings = gids
            spec.linux = linux
            return
        }
    }

    /// A user namespace the engine names by /proc path, without mappings in the spec:
    /// its mappings, read from /proc, obey the policy's rule too (no container id is
    /// host root). One named otherwise (a bind-mounted nsfs file) cannot be read here.
    static func refuseHostRootInJoinedUserNamespace(_ spec: Spec, proc: String = "/proc") throws {
        guard let linux = spec.linux, linux.uidMappings == nil,
              let path = linux.namespaces?.first(where: { $0.type == .user })?.path, path.hasPrefix(proc + "/"),
              path.hasSuffix("/ns/user") else { return }
        let pidDirectory = String(path.dropLast("/ns/user".count))
        for (file, field) in [("uid_map", "uid"), ("gid_map", "gid")] {
            if let mappings = idMappings(pidDirectory + "/" + file), let bad = PolicyOverlay.hostRootMapping(mappings) {
                throw PolicyError("linux.namespaces: the user namespace \(path) maps container \(field) \(bad) to host root; the policy runs root only as an unprivileged host user (io.safehouse.policy)")
            }
        }
    }

    /// A /proc/PID/uid_map's lines ("inside outside count").
    static func idMappings(_ path: String) -> [LinuxIDMapping]? {
        guard let text = try? Files.readString(path) else { return nil }
        var out: [LinuxIDMapping] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 3, let inside = UInt32(f[0]), let outside = UInt32(f[1]), let count = UInt32(f[2]) else { return nil }
            out.append(LinuxIDMapping(containerID: inside, hostID: outside, size: count))
        }
        return out.isEmpty ? nil : out
    }
}
