import ContainerCore
import Cgroups
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRuntime {
    /// `kill`: signals the init, or with `all` every process of the container.
    public func kill(id: String, signal: Signal, all: Bool) throws {
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        if record.backend == .gvisor { return try killGvisor(record, signal: signal, all: all) }
        let current = status(of: record)
        recordAudit(record.annotations, id, "kill", ["signal": .int(Int64(signal.rawValue)), "all": .string(all ? "true" : "false"),
                                                     "status": .string(current.rawValue)])
        if all {
            guard current != .stopped else {
                // As runc: --all of a stopped container signals whatever is left in its
                // cgroup (children of an init that shared a pid namespace) and succeeds.
                // containerd's runc shim sends `kill --all ID KILL` on every init exit
                // and, when it fails, never reports the exit to the CRI plugin.
                signalLeftovers(record, signal)
                return
            }
            try signalAll(record, signal)
            // Processes in a sub-cgroup frozen on its own (v1: its parent's thaw does
            // not reach it) would keep SIGKILL pending for ever: they are dying, thaw
            // them. Other signals leave freezing alone.
            if signal == .kill, !record.cgroupPaths.isEmpty { cgroupManager(of: record).thawSubtree() }
        } else {
            guard current != .stopped else { throw RuntimeError.containerNotRunning(id) }
            try Processes.signal(record.pid, signal)
        }
        // A frozen process does not act on SIGKILL until it is thawed: thaw a paused
        // container after SIGKILL, as runc does, so that it dies now (Podman's kill of
        // a paused container waits for the exit). Other signals stay pending.
        if current == .paused, signal == .kill {
            do { try cgroupManager(of: record).thaw() } catch {
                throw RuntimeError("kill \(id): thaw after SIGKILL: \(error)")
            }
        }
    }

    /// Signals the processes still in a stopped container's cgroups. Never the recorded
    /// init pid itself: it is dead and may belong to someone else by now.
    func signalLeftovers(_ record: ContainerRecord, _ signal: Signal) {
        guard !record.cgroupPaths.isEmpty else { return }
        for pid in CgroupManager(paths: record.cgroupPaths).processes() {
            _ = Glibc.kill(pid, signal.rawValue)
        }
    }

    /// Signals every process of the container: those in its pid namespace when it
    /// has its own, else the init and its descendants.
    func signalAll(_ record: ContainerRecord, _ signal: Signal) throws {
        for pid in processes(of: record) {
            _ = Glibc.kill(pid, signal.rawValue)
        }
    }

    /// The host pids of a container's processes, init first.
    func processes(of record: ContainerRecord) -> [Int32] {
        // The cgroup holds exactly the container's processes (and forks cannot escape it).
        if !record.cgroupPaths.isEmpty {
            let members = CgroupManager(paths: record.cgroupPaths).processes()
            return [record.pid] + members.filter { $0 != record.pid }
        }
        let all = Processes.all()
        if record.ownsPidNamespace, let ns = Namespaces.identity(of: .pid, pid: record.pid) {
            return [record.pid] + all.filter { $0 != record.pid && Namespaces.identity(of: .pid, pid: $0) == ns }
        }
        var parents: [Int32: Int32] = [:]
        for pid in all { if let p = Processes.parent(of: pid) { parents[pid] = p } }
        var members: Set<Int32> = [record.pid]
        var changed = true
        while changed {
            changed = false
            for (pid, parent) in parents where !members.contains(pid) && members.contains(parent) {
                members.insert(pid)
                changed = true
            }
        }
        return [record.pid] + members.subtracting([record.pid]).sorted()
    }
}
