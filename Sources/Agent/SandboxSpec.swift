import Egress
import OCI
import Runtime
import Sandbox

/// What `agent spec` and `agent run` are given beyond the policy.
public struct SandboxRequest: Equatable, Sendable {
    /// Absolute path of the image's root filesystem.
    public var rootfs: String
    public var args: [String]
    /// The policy name or path, as given (recorded in the annotation).
    public var policyName: String
    /// `agent spec --hooks`: the spec's own OCI hooks write create, start and delete.
    public var auditByHooks = false
    /// The environment the policy's is laid over: an image's (ImageDefaults); nil: PATH
    /// and HOME only.
    public var baseEnv: [String]?
}

/// Turns a policy into a complete OCI runtime spec. Any OCI runtime can run the
/// result; safehouse adds the ephemeral root and the warden when it sees the
/// io.safehouse.policy annotation.
public enum SandboxSpec {
    public static func generate(_ policy: Policy, _ request: SandboxRequest) throws -> Spec {
        guard !request.args.isEmpty else { throw PolicyError("a command is required (after --\(request.baseEnv == nil ? "" : ", or the image's Entrypoint or Cmd"))") }
        guard request.rootfs.hasPrefix("/") else { throw PolicyError("--rootfs: \"\(request.rootfs)\" must be an absolute path") }
        let caps = policy.capabilities
        var env = request.baseEnv ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"]
        func set(_ key: String, _ value: String) {
            env.removeAll { $0.hasPrefix(key + "=") }
            env.append("\(key)=\(value)")
        }
        for (key, value) in policy.env.sorted(by: { $0.key < $1.key }) { set(key, value) }
        // The egress proxies listen on the sandbox's loopback (Runtime EgressListener,
        // served by the warden); without an allowlist there is no proxy and no way out.
        // Transparent egress alone names no proxy: every connection is captured anyway.
        for (key, value) in PolicyOverlay.proxyEnvironment(policy.network) { set(key, value) }
        // Each secret's variable holds a fresh placeholder, never the value: the proxy
        // puts the value in on the way out (docs/egress.md, Secrets).
        var secrets: [SecretBinding] = []
        if !policy.secrets.isEmpty {
            guard !policy.network.allow.isEmpty else {
                throw PolicyError("secrets: the policy has no network.allow: a secret goes out only through the egress proxy")
            }
            for secret in policy.secrets {
                let placeholder = EgressSecret.placeholderPrefix + (0..<2).map { _ in
                    let hex = String(UInt64.random(in: .min ... .max), radix: 16)
                    return String(repeating: "0", count: 16 - hex.count) + hex
                }.joined()
                set(secret.name, placeholder)
                secrets.append(SecretBinding(name: secret.name, placeholder: placeholder, env: secret.env, file: secret.file,
                                             hosts: secret.hosts, header: secret.header))
            }
            // The proxy terminates TLS to the secrets' hosts with the sandbox's own CA,
            // which the root's trust store carries (TrustBundle); these variables name
            // a bundle that holds it for programs that read no common path.
            for key in TrustBundle.variables { set(key, TrustBundle.bundlePath) }
        }
        let process = Process(
            terminal: false,
            user: User(uid: policy.user.uid, gid: policy.user.gid),
            args: request.args,
            env: env,
            cwd: policy.workdir,
            capabilities: LinuxCapabilities(bounding: caps, effective: caps, permitted: caps),
            rlimits: [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 4096, soft: 4096)],
            noNewPrivileges: true)

        let scratch = "size=\(policy.filesystem.scratch)"
        var mounts: [Mount] = [
            Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/scratch", type: "tmpfs", source: "scratch", options: ["nosuid", "nodev", "mode=1777", scratch]),
            Mount(destination: "/tmp", type: "tmpfs", source: "tmp", options: ["nosuid", "nodev", "mode=1777", scratch]),
        ]
        if let input = policy.filesystem.input {
            mounts.append(Mount(destination: "/input", type: "bind", source: input, options: ["rbind", "ro", "nosuid", "nodev"]))
        }
        if let output = policy.filesystem.output {
            mounts.append(Mount(destination: "/output", type: "bind", source: output, options: ["rbind", "rw", "nosuid", "nodev"]))
        }

        var namespaces: [LinuxNamespace] = [.init(type: .pid), .init(type: .network), .init(type: .ipc),
                                            .init(type: .uts), .init(type: .mount), .init(type: .cgroup)]
        var uidMappings: [LinuxIDMapping]?, gidMappings: [LinuxIDMapping]?
        if policy.user.userNamespace {
            namespaces.append(.init(type: .user))
            let hostID = try policy.user.hostID ?? HostIDRange.resolve(policy.user, entries: HostIDRange.hostEntries())
            uidMappings = [LinuxIDMapping(containerID: 0, hostID: hostID, size: policy.user.idCount)]
            gidMappings = uidMappings
        }
        var resources = LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")])
        if let memory = policy.limits.memory { resources.memory = LinuxMemory(limit: Int64(memory)) }
        if let cpus = policy.limits.cpus {
            let period: UInt64 = 100_000
            resources.cpu = LinuxCPU(quota: Int64((cpus * Double(period)).rounded()), period: period)
        }
        if let pids = policy.limits.pids { resources.pids = LinuxPids(limit: pids) }

        var config = SandboxConfig(policy, policyName: request.policyName)
        config.auditByHooks = request.auditByHooks
        config.secrets = secrets
        var annotations = config.annotations
        // A gvisor policy's spec says so: safehouse, given the spec by an engine, then
        // runs it on runsc too (Backend.annotation); native is the default and unsaid.
        if policy.backend == .gvisor { annotations[Backend.annotation] = Backend.gvisor.rawValue }

        return Spec(
            process: process,
            root: Root(path: request.rootfs, readonly: policy.filesystem.readonlyRoot),
            hostname: "sandbox",
            mounts: mounts,
            annotations: annotations,
            linux: LinuxConfig(
                uidMappings: uidMappings,
                gidMappings: gidMappings,
                resources: resources,
                namespaces: namespaces,
                seccomp: AgentSeccomp.profile(policy.syscalls),
                maskedPaths: Spec.defaultMaskedPaths,
                readonlyPaths: Spec.defaultReadonlyPaths))
    }
}
