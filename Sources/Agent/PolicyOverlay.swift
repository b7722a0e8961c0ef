import OCI
import Runtime

/// The policy laid over a spec an engine wrote (Podman, containerd, a CRI pod) that
/// carries the io.safehouse.policy annotation: the container gets the sandbox
/// `agent run` would give it, as far as a spec can say, and never less than the
/// engine asked for. Every rule only tightens:
///
/// - capabilities: each set cut to the policy's list (an engine's extra capability is
///   dropped; one the policy names but the engine did not grant is not added);
/// - `noNewPrivileges`: on;
/// - masked and read-only paths: the engine's and the runtime's defaults, both;
/// - memory, cpus and pids: the stricter of the engine's and the policy's;
/// - the root read-only when either says so;
/// - a user namespace mapped to the policy's unprivileged host range when the engine
///   made none (the ephemeral root is then idmapped, as for `agent run`); mappings the
///   engine made are checked against the policy's rule (no container id maps to host
///   root) and refused when they break it;
/// - `/scratch` (the policy's size) where the engine mounted nothing there;
/// - env keys and the working directory only where the engine left them unset (an
///   engine writes `/` when the image names no working directory); with an allowlist,
///   the proxy variables `agent spec` writes, likewise.
///
/// The seccomp profile is not merged here: the policy's filter is loaded after the
/// engine's, and the kernel enforces both (each call must pass every filter).
///
/// `apply` is pure: `safehouse agent explain` prints its changes, and create applies
/// the same. Applying it to its own result changes nothing.
public enum PolicyOverlay {
    /// One change, for `agent explain`: the spec's field, as JSON paths name it, and
    /// what it became.
    public struct Change: Equatable, Sendable, CustomStringConvertible {
        public var field: String
        public var was: String
        public var now: String
        public var description: String { "\(field): \(was) -> \(now)" }
    }

    /// The spec with `policy` laid over it, and what changed. `hostID`: the first host
    /// id of the range a new user namespace maps to (HostIDRange), when the policy asks
    /// for one and the engine made none.
    public static func apply(_ policy: Policy, to input: Spec, hostID: UInt32?) throws -> (spec: Spec, changes: [Change]) {
        var spec = input
        var changes: [Change] = []
        func note(_ field: String, _ was: String, _ now: String) {
            if was != now { changes.append(Change(field: field, was: was, now: now)) }
        }
        guard var process = spec.process else { throw PolicyError("process: the spec has none (the policy applies to a process)") }

        // Capabilities: each set cut to the policy's.
        let allowed = Set(policy.capabilities)
        if var caps = process.capabilities {
            func cut(_ name: String, _ set: inout [String]?) {
                guard let before = set else { return }
                let after = before.filter { allowed.contains($0) }
                note("process.capabilities.\(name)", list(before), list(after))
                set = after
            }
            cut("bounding", &caps.bounding)
            cut("effective", &caps.effective)
            cut("inheritable", &caps.inheritable)
            cut("permitted", &caps.permitted)
            cut("ambient", &caps.ambient)
            process.capabilities = caps
        }
        note("process.noNewPrivileges", String(process.noNewPrivileges ?? false), "true")
        process.noNewPrivileges = true

        // Env and working directory: only what the engine left unset.
        // Then the explicit proxies of an allowlist (as `agent spec` writes them), where
        // the engine set none: a program that honours them reaches the warden's proxy.
        var env = process.env ?? []
        for (key, value) in policy.env.sorted(by: { $0.key < $1.key }).map({ ($0.key, $0.value) }) + proxyEnvironment(policy.network)
            where !env.contains(where: { $0.hasPrefix(key + "=") }) {
            env.append("\(key)=\(value)")
            changes.append(Change(field: "process.env", was: "no \(key)", now: "\(key)=\(value)"))
        }
        if process.env != nil || !env.isEmpty { process.env = env }

        var mounts = spec.mounts ?? []
        let scratchMounted = mounts.contains { normalized($0.destination) == "/scratch" }
        if !scratchMounted {
            mounts.append(Mount(destination: "/scratch", type: "tmpfs", source: "scratch",
                                options: ["nosuid", "nodev", "mode=1777", "size=\(policy.filesystem.scratch)"]))
            changes.append(Change(field: "mounts", was: "no /scratch", now: "/scratch tmpfs size=\(policy.filesystem.scratch)"))
            spec.mounts = mounts
        }
        if normalized(process.cwd) == "/", normalized(policy.workdir) != "/" {
            note("process.cwd", process.cwd, policy.workdir)
            process.cwd = policy.workdir
        }
        spec.process = process

        if policy.filesystem.readonlyRoot, var root = spec.root, root.readonly != true {
            note("root.readonly", "false", "true")
            root.readonly = true
            spec.root = root
        }

        var linux = spec.linux ?? LinuxConfig()
        let masked = union(linux.maskedPaths ?? [], Spec.defaultMaskedPaths)
        note("linux.maskedPaths", "\((linux.maskedPaths ?? []).count) paths", "\(masked.count) paths")
        linux.maskedPaths = masked
        let readonly = union(linux.readonlyPaths ?? [], Spec.defaultReadonlyPaths)
        note("linux.readonlyPaths", "\((linux.readonlyPaths ?? []).count) paths", "\(readonly.count) paths")
        linux.readonlyPaths = readonly

        // Limits: the stricter of the two (nil is unlimited on either side).
        var resources = linux.resources ?? LinuxResources()
        if let memory = policy.limits.memory {
            let engine = resources.memory?.limit.flatMap { $0 > 0 ? UInt64($0) : nil }
            if engine.map({ $0 > memory }) ?? true {
                var m = resources.memory ?? LinuxMemory()
                note("linux.resources.memory.limit", engine.map(String.init) ?? "unlimited", String(memory))
                m.limit = Int64(memory)
                resources.memory = m
            }
        }
        if let cpus = policy.limits.cpus {
            var cpu = resources.cpu ?? LinuxCPU()
            let period = cpu.period.flatMap { $0 > 0 ? $0 : nil } ?? 100_000
            let engine = cpu.quota.flatMap { $0 > 0 ? Double($0) / Double(period) : nil }
            if engine.map({ $0 > cpus }) ?? true {
                let quota = Int64((cpus * Double(period)).rounded())
                note("linux.resources.cpu.quota", cpu.quota.map { "\($0) per \(period)" } ?? "unlimited", "\(quota) per \(period)")
                cpu.quota = quota
                cpu.period = period
                resources.cpu = cpu
            }
        }
        if let pids = policy.limits.pids {
            let engine = resources.pids.flatMap { $0.limit > 0 ? $0.limit : nil }
            if engine.map({ $0 > pids }) ?? true {
                note("linux.resources.pids.limit", engine.map(String.init) ?? "unlimited", String(pids))
                resources.pids = LinuxPids(limit: pids)
            }
        }
        linux.resources = resources

        // The user namespace.
        if policy.user.userNamespace {
            var namespaces = linux.namespaces ?? []
            if let user = namespaces.first(where: { $0.type == .user }) {
                if user.path != nil, linux.uidMappings == nil {
                    // A namespace the engine made elsewhere (a pod's): its mappings are in
                    // /proc, checked against the same rule before the overlay
                    // (EngineSpecPolicy.refuseHostRootInJoinedUserNamespace).
                } else {
                    if let bad = hostRootMapping(linux.uidMappings ?? []) {
                        throw PolicyError("linux.uidMappings: container uid \(bad) is host root; the policy runs root only as an unprivileged host user (io.safehouse.policy)")
                    }
                    if let bad = hostRootMapping(linux.gidMappings ?? []) {
                        throw PolicyError("linux.gidMappings: container gid \(bad) is host root; the policy runs root only as an unprivileged host group (io.safehouse.policy)")
                    }
                }
            } else {
                guard let hostID else { throw PolicyError("user: the policy asks for a user namespace and no host id range was chosen") }
                namespaces.append(LinuxNamespace(type: .user))
                let mapping = [LinuxIDMapping(containerID: 0, hostID: hostID, size: policy.user.idCount)]
                linux.uidMappings = mapping
                linux.gidMappings = mapping
                linux.namespaces = namespaces
                changes.append(Change(field: "linux.namespaces", was: "no user namespace",
                                      now: "user namespace, ids 0-\(policy.user.idCount - 1) -> host \(hostID)-\(UInt64(hostID) + UInt64(policy.user.idCount) - 1)"))
            }
        }
        spec.linux = linux
        return (spec, changes)
    }

    /// The proxy variables an allowlist served through the proxies gives a sandbox (the
    /// same as SandboxSpec's), in a fixed order; none without one.
    public static func proxyEnvironment(_ network: Policy.Network) -> [(String, String)] {
        guard !network.allow.isEmpty, network.mode.servesProxies else { return [] }
        let proxy = "http://127.0.0.1:\(EgressListener.port)"
        return ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"].map { ($0, proxy) }
            + ["ALL_PROXY", "all_proxy"].map { ($0, "socks5h://127.0.0.1:\(EgressListener.socksPort)") }
            + ["NO_PROXY", "no_proxy"].map { ($0, "localhost,127.0.0.1,::1") }
    }

    /// The container id a mapping gives host id 0, if any.
    public static func hostRootMapping(_ mappings: [LinuxIDMapping]) -> UInt32? {
        for m in mappings where m.size > 0 && m.hostID == 0 { return m.containerID }
        return nil
    }

    static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ",") }

    static func union(_ a: [String], _ b: [String]) -> [String] {
        var seen = Set(a)
        var out = a
        for path in b where seen.insert(path).inserted { out.append(path) }
        return out
    }

    static func normalized(_ path: String) -> String {
        let parts = path.split(separator: "/")
        return "/" + parts.joined(separator: "/")
    }
}
