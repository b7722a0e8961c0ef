import ContainerCore
import Sandbox
import FoundationEssentials
import Linux
import OCI

/// The bundle runsc gets when safehouse must change the engine's config: for an agent
/// sandbox (the root replaced by the ephemeral overlay's merged directory) and for a
/// spec with host-side hooks (which safehouse runs itself). A plain container without
/// hooks gets the engine's bundle as it is (no JSON written on that path).
enum GvisorSandboxBundle {
    /// The hook kinds safehouse runs for a gvisor container instead of runsc, at the
    /// points runc runs them (prestart and createRuntime after the sandbox is made and
    /// before its process starts, poststart after start, poststop after delete): so
    /// their runs and failures reach the audit log, and they get runc's state document
    /// with the pid engines know. createContainer and startContainer run inside the
    /// container's namespaces, which are gVisor's: those stay runsc's.
    static let hostHookKinds: [HookKind] = [.prestart, .createRuntime, .poststart, .poststop]

    static func hasHostHooks(_ spec: Spec) -> Bool {
        hostHookKinds.contains { !$0.hooks(in: spec.hooks).isEmpty }
    }

    /// An agent sandbox's bundle.
    ///
    /// Why the merged directory and not runsc's own `--overlay2=root:memory`: the
    /// promises are safehouse's, not runsc's. The overlay's upper layer is then a tmpfs
    /// on the host, capped by the policy's disk limit (a writer meets ENOSPC), with the
    /// same idmapped image under it as on native, and it is there after the sandbox ends
    /// for the change set (ChangeSet) that goes to the summary and the audit log. runsc's
    /// memory overlay keeps the upper layer inside the sandbox's memory, where no change
    /// set can be read and only the memory limit caps it. runsc's gofer serves the merged
    /// directory as any root filesystem.
    static func write(spec: Spec, bundle: Bundle, id: String, stateDirectory: String, ephemeral: String, diskBytes: UInt64,
                      egressMode: EgressMode? = nil, seed: String? = nil, trustFiles: [String: String] = [:]) throws -> String {
        // Capture's resolver (linkEgress) is a file of the root, under its writes; so
        // is the trust store with the sandbox's CA (TrustBundle).
        var files = trustFiles
        if egressMode?.capturesConnections == true { files["/etc/resolv.conf"] = GvisorEgressLink.resolvConf }
        let merged = try stage("ephemeral root for \(bundle.rootfs)") {
            try EphemeralRoot.mount(lower: bundle.rootfs, at: ephemeral, sizeBytes: diskBytes, linux: spec.linux, files: files, seed: seed)
        }
        var spec = spec
        // Every sandbox's cgroup under one parent (runsc would use /ID): where an
        // operator finds them, apart from the native containers' cgroups.
        let cgroupsPath = sandboxCgroupsPath(spec, id: id)
        spec.linux?.cgroupsPath = cgroupsPath
        // The policy's pids limit counts the sandbox's processes; runsc's cgroup counts
        // gVisor's host tasks too (GvisorPidsHeadroom). A plain container keeps the
        // engine's number as runc reads it.
        GvisorPidsHeadroom.apply(&spec)
        if egressMode != nil { linkEgress(&spec) }
        return try write(spec: spec, rootPath: merged, stateDirectory: stateDirectory)
    }

    /// Egress over the warden's link (GvisorEgressLink): inside gVisor 127.0.0.1 is
    /// gVisor's own loopback, so the proxy variables name the warden's address. (For
    /// capture, the resolver is the warden's, named in an /etc/resolv.conf that
    /// `write` layers into the root: on native a missing resolv.conf already means
    /// 127.0.0.1, which the capture answers; a query to any other server is captured
    /// here too, as there.)
    static func linkEgress(_ spec: inout Spec) {
        guard let env = spec.process?.env else { return }
        spec.process?.env = env.map { entry in
            guard let eq = entry.firstIndex(of: "="),
                  let url = GvisorEgressLink.proxyURL(replacing: String(entry[entry.index(after: eq)...])) else { return entry }
            return entry[..<eq] + "=" + url
        }
    }

    /// The container's config as `exec` reads it, with `linkEgress`'s variables.
    static func linkedConfig(_ spec: Spec) throws -> [UInt8] {
        var spec = spec
        linkEgress(&spec)
        return spec.compactJSON()
    }

    /// `spec` with its network namespace named by `path`: runsc's sandbox joins a
    /// namespace the spec names by path, and makes a new one for a namespace without.
    static func joiningNetwork(_ spec: Spec, at path: String) -> Spec {
        var spec = spec
        var linux = spec.linux ?? LinuxConfig()
        var namespaces = (linux.namespaces ?? []).filter { $0.type != .network }
        namespaces.append(LinuxNamespace(type: .network, path: path))
        linux.namespaces = namespaces
        spec.linux = linux
        return spec
    }

    /// The cgroupsPath runsc gets for an agent sandbox.
    static func sandboxCgroupsPath(_ spec: Spec, id: String) -> String {
        let given = spec.linux?.cgroupsPath ?? ""
        return given.isEmpty ? "/safehouse-gvisor/" + id : given
    }

    /// `<state>/bundle/config.json`: `spec` with an absolute root (the bundle moved)
    /// and without the hooks safehouse runs itself.
    static func write(spec: Spec, rootPath: String, stateDirectory: String) throws -> String {
        var spec = spec
        spec.root?.path = rootPath
        spec.hooks?.prestart = nil
        spec.hooks?.createRuntime = nil
        spec.hooks?.poststart = nil
        spec.hooks?.poststop = nil
        let directory = stateDirectory + "/bundle"
        try Files.makeDirectories(directory, mode: 0o700)
        try Files.writeAtomically(directory + "/config.json", spec.compactJSON(), mode: 0o600)
        return directory
    }
}
