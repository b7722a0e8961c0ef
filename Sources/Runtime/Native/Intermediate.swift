import ContainerCore
import Linux
import OCI

/// The process between the runtime and the container's init, used only when the
/// container has a user (or time) namespace of its own.
///
/// New pid and time namespaces apply to a process's children, and must be owned by
/// the container's user namespace; the runtime itself has to stay in the host's
/// namespaces (it writes state and the uid/gid maps). So this process joins and
/// creates the namespaces, forks the init into them, reports its pid and exits
/// (runc's nsexec stage 1).
struct Intermediate<K: Kernel> {
    /// Every namespace call goes through it.
    let kernel: K
    let config: InitConfig

    func run() -> Never {
        config.lock.release()
        do {
            let plan = config.namespaces
            // Joins while still privileged on the host, user namespace last.
            try ContainerInit(kernel: kernel, config: config).enterNamespaces(NamespacePlan(joins: plan.joins.filter { $0.kind != .user }, new: []))
            if let user = plan.join(.user) {
                try stage("join user namespace \(user.path)") { try kernel.join(user.fd, kind: .user, path: user.path) }
            }
            // Written here, still host root, and inherited by the init: inside its user
            // namespace the init, not dumpable, cannot open its own /proc files, and
            // lowering the value needs CAP_SYS_RESOURCE in the host's (runc's nsexec
            // writes it before the clone too).
            if let adj = config.process.oomScoreAdj {
                try stage("oom_score_adj") { try kernel.write("/proc/self/oom_score_adj", String(adj)) }
            }
            if plan.new.contains(.user) {
                try stage("unshare user namespace") { try kernel.unshare(NamespaceKind.user.cloneFlag) }
                try config.channel.send(.needIDMaps)
                try config.channel.expect(.idMapsWritten, "writing uid/gid maps", timeout: nil)
            }
            if plan.new.contains(.user) || plan.joinsUser {
                // Become the namespace's root, when the maps include it.
                if (try? Credentials.setGID(0)) != nil { _ = try? Credentials.setUID(0) }
            }
            if let pid = plan.join(.pid) {
                try stage("join pid namespace \(pid.path)") { try kernel.join(pid.fd, kind: .pid, path: pid.path) }
            }
            var flags = plan.unshareFlags
            if plan.new.contains(.pid) { flags |= NamespaceKind.pid.cloneFlag }
            if plan.new.contains(.time) { flags |= NamespaceKind.time.cloneFlag }
            // Not the cgroup namespace: the init moves itself into its v1 cgroups
            // (through files the runtime opens, as it may not) once the runtime has
            // made them, as without a user namespace, and roots its cgroup namespace
            // once it is in. This process was born in the v2 cgroup; the init too.
            if flags != 0 {
                try stage("unshare namespaces") { try kernel.unshare(flags) }
            }
            if plan.new.contains(.time) {
                try stage("time namespace offsets") { try writeTimeOffsets() }
            }
            let pid = try Processes.fork()
            if pid == 0 {
                ContainerInit(kernel: kernel, config: config).run(enteringNamespaces: false)
            }
            try config.channel.send(.initPid(pid))
            Processes.exitImmediately(0)
        } catch {
            try? config.channel.send(.failure("\(error)"))
            Processes.exitImmediately(1)
        }
    }

    private func writeTimeOffsets() throws {
        guard let offsets = config.spec.linux?.timeOffsets, !offsets.isEmpty else { return }
        var text = ""
        for (clock, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            text += "\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)\n"
        }
        try kernel.write("/proc/self/timens_offsets", text)
    }
}

extension Intermediate where K == HostKernel {
    init(config: InitConfig) {
        self.init(kernel: HostKernel(), config: config)
    }
}
