import Egress
import OCI
import Runtime

/// The annotations a generated spec carries, and that an engine can set on its own
/// (`io.safehouse.policy=default`) to get the sandbox treatment.
public enum SandboxAnnotation {
    /// A profile name, or a policy in the policy directory (PolicyLibrary).
    public static let policy = "io.safehouse.policy"
    /// The effective policy the spec was generated from, in a line (Policy.effectiveLine):
    /// for people reading the spec; nothing reads it back.
    public static let effectivePolicy = "io.safehouse.policy.effective"
    /// The effective limits the spec was generated with (a policy file may change).
    public static let disk = "io.safehouse.limits.disk"
    public static let timeout = "io.safehouse.limits.timeout"
    /// The egress allowlist, comma separated (the egress proxy's input).
    public static let networkAllow = "io.safehouse.network.allow"
    /// The egress proxy's limits (network.maxConnections, maxBytes, idleTimeout).
    public static let networkMaxConnections = "io.safehouse.network.maxConnections"
    public static let networkMaxBytes = "io.safehouse.network.maxBytes"
    public static let networkIdleTimeout = "io.safehouse.network.idleTimeout"
    /// How the sandbox reaches the allowlist: explicit, transparent or both.
    public static let networkMode = "io.safehouse.network.mode"
    /// The policy's audit log path, and its HMAC key file.
    public static let audit = "io.safehouse.audit"
    public static let auditKey = "io.safehouse.audit.key"
    /// `best-effort` when the policy lets the sandbox run without its audit log.
    public static let auditMode = "io.safehouse.audit.mode"
    /// Set by `agent spec --hooks`: the spec's own OCI hooks write create, start and
    /// delete, so safehouse, running it, does not write them twice.
    public static let auditHooks = "io.safehouse.audit.hooks"
}

/// What `agent spec` and `agent run` are given beyond the policy.
public struct SandboxRequest: Equatable, Sendable {
    /// Absolute path of the image's root filesystem.
    public var rootfs: String
    public var args: [String]
    /// The policy name or path, as given (recorded in the annotation).
    public var policyName: String

    public init(rootfs: String, args: [String], policyName: String) {
        self.rootfs = rootfs
        self.args = args
        self.policyName = policyName
    }
}

/// Turns a policy into a complete OCI runtime spec. Any OCI runtime can run the
/// result; safehouse adds the ephemeral root and the warden when it sees the
/// io.safehouse.policy annotation.
public enum SandboxSpec {
    public static func generate(_ policy: Policy, _ request: SandboxRequest) throws -> Spec {
        guard !request.args.isEmpty else { throw PolicyError("a command is required (after --)") }
        guard request.rootfs.hasPrefix("/") else { throw PolicyError("--rootfs: \"\(request.rootfs)\" must be an absolute path") }
        let caps = policy.capabilities
        var env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"]
        for (key, value) in policy.env.sorted(by: { $0.key < $1.key }) {
            env.removeAll { $0.hasPrefix(key + "=") }
            env.append("\(key)=\(value)")
        }
        // The egress proxies listen on the sandbox's loopback (Runtime EgressListener,
        // served by the warden); without an allowlist there is no proxy and no way out.
        // Transparent egress alone names no proxy: every connection is captured anyway.
        if !policy.network.allow.isEmpty, policy.network.mode.servesProxies {
            let proxy = "http://127.0.0.1:\(EgressListener.port)"
            for key in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
                env.removeAll { $0.hasPrefix(key + "=") }
                env.append("\(key)=\(proxy)")
            }
            // socks5h: the proxy resolves names (the sandbox may have no resolver).
            for key in ["ALL_PROXY", "all_proxy"] {
                env.removeAll { $0.hasPrefix(key + "=") }
                env.append("\(key)=socks5h://127.0.0.1:\(EgressListener.socksPort)")
            }
            for key in ["NO_PROXY", "no_proxy"] {
                env.removeAll { $0.hasPrefix(key + "=") }
                env.append("\(key)=localhost,127.0.0.1,::1")
            }
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
            gidMappings = [LinuxIDMapping(containerID: 0, hostID: hostID, size: policy.user.idCount)]
        }
        var resources = LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")])
        if let memory = policy.limits.memory { resources.memory = LinuxMemory(limit: Int64(memory)) }
        if let cpus = policy.limits.cpus {
            let period: UInt64 = 100_000
            resources.cpu = LinuxCPU(quota: Int64((cpus * Double(period)).rounded()), period: period)
        }
        if let pids = policy.limits.pids { resources.pids = LinuxPids(limit: pids) }

        var annotations = [
            SandboxAnnotation.policy: request.policyName,
            SandboxAnnotation.disk: String(policy.limits.disk),
            SandboxAnnotation.effectivePolicy: policy.effectiveLine,
        ]
        if let t = policy.limits.timeout { annotations[SandboxAnnotation.timeout] = String(t) }
        if !policy.network.allow.isEmpty { annotations[SandboxAnnotation.networkAllow] = policy.network.allow.joined(separator: ",") }
        if let n = policy.network.maxConnections { annotations[SandboxAnnotation.networkMaxConnections] = String(n) }
        if let n = policy.network.maxBytes { annotations[SandboxAnnotation.networkMaxBytes] = String(n) }
        if let t = policy.network.idleTimeout { annotations[SandboxAnnotation.networkIdleTimeout] = String(t) }
        if !policy.network.allow.isEmpty { annotations[SandboxAnnotation.networkMode] = policy.network.mode.rawValue }
        if let audit = policy.audit { annotations[SandboxAnnotation.audit] = audit }
        if policy.auditBestEffort { annotations[SandboxAnnotation.auditMode] = "best-effort" }
        // A gvisor policy's spec says so: safehouse, given the spec by an engine, then
        // runs it on runsc too (Backend.annotation); native is the default and unsaid.
        if policy.backend == .gvisor { annotations[Backend.annotation] = Backend.gvisor.rawValue }
        if let key = policy.auditKey { annotations[SandboxAnnotation.auditKey] = key }

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

    /// What create does for a container whose spec names a policy: its disk limit
    /// and deadline, from the annotations the generator wrote or, when an engine set
    /// only io.safehouse.policy, from the policy itself, which `library` finds (a
    /// profile or a policy directory's file only: PolicyLibrary). Nil: not a sandbox.
    public static func treatment(for annotations: [String: String]?, library: @autoclosure () throws -> PolicyLibrary = PolicyLibrary(directories: [PolicyLibrary.defaultDirectory])) throws -> (diskBytes: UInt64, timeoutSeconds: Double?, network: Policy.Network)? {
        guard let annotations, let name = annotations[SandboxAnnotation.policy] else { return nil }
        if let diskText = annotations[SandboxAnnotation.disk] {
            guard let disk = UInt64(diskText), disk >= 1 << 20 else {
                throw PolicyError("annotations.\(SandboxAnnotation.disk): \"\(diskText)\" is not a number of bytes (at least 1Mi)")
            }
            var timeout: Double?
            if let t = annotations[SandboxAnnotation.timeout] {
                guard let v = Double(t), v > 0, v.isFinite else {
                    throw PolicyError("annotations.\(SandboxAnnotation.timeout): \"\(t)\" is not a positive number of seconds")
                }
                guard v <= Quantity.maximumTimeout else {
                    throw PolicyError("annotations.\(SandboxAnnotation.timeout): \"\(t)\" is \(Quantity.timeoutTooLong)")
                }
                timeout = v
            }
            var network = Policy.Network()
            network.allow = annotations[SandboxAnnotation.networkAllow].map {
                $0.split(separator: ",").map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }.filter { !$0.isEmpty }
            } ?? []
            // Checked here with the proxy's own parser, so a bad entry fails create with
            // the annotation named instead of the warden failing later.
            for entry in network.allow {
                do { _ = try AllowRule(entry) } catch {
                    throw PolicyError("annotations.\(SandboxAnnotation.networkAllow): \("\(error)".replacingPrefix("network.allow: ", with: ""))")
                }
            }
            if let t = annotations[SandboxAnnotation.networkMaxConnections] {
                guard let n = Int(t), n > 0 else { throw PolicyError("annotations.\(SandboxAnnotation.networkMaxConnections): \"\(t)\" is not a positive number") }
                network.maxConnections = n
            }
            if let t = annotations[SandboxAnnotation.networkMaxBytes] {
                guard let n = UInt64(t) else { throw PolicyError("annotations.\(SandboxAnnotation.networkMaxBytes): \"\(t)\" is not a number of bytes") }
                network.maxBytes = n
            }
            if let t = annotations[SandboxAnnotation.networkIdleTimeout] {
                guard let v = Double(t), v > 0, v.isFinite else { throw PolicyError("annotations.\(SandboxAnnotation.networkIdleTimeout): \"\(t)\" is not a positive number of seconds") }
                guard v <= Quantity.maximumTimeout else {
                    throw PolicyError("annotations.\(SandboxAnnotation.networkIdleTimeout): \"\(t)\" is \(Quantity.timeoutTooLong)")
                }
                network.idleTimeout = v
            }
            if let t = annotations[SandboxAnnotation.networkMode] {
                guard let m = EgressMode(rawValue: t) else {
                    throw PolicyError("annotations.\(SandboxAnnotation.networkMode): \"\(t)\" is not one of explicit, transparent, both")
                }
                network.mode = m
            }
            return (disk, timeout, network)
        }
        let policy: Policy
        // A shipped profile needs no policy directory: safehouse.conf is not read.
        do { policy = try (Profiles.text(of: name) != nil ? PolicyLibrary(directories: []) : library()).resolve(name, from: .annotation) } catch {
            throw PolicyError("annotations.\(SandboxAnnotation.policy): \(error)")
        }
        return (policy.limits.disk, policy.limits.timeout, policy.network)
    }
}
