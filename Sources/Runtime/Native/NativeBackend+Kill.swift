import ContainerCore
import Cgroups
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension NativeBackend {
    /// `kill`: signals the init, or with `all` every process of the container.
    func kill(_ record: ContainerRecord, signal: Signal, all: Bool) throws {
        let id = record.id
        let current = status(of: record)
        runtime.recordAudit(record.annotations, id, "kill", ["signal": .int(Int64(signal.rawValue)), "all": .string(all ? "true" : "false"),
                                                             "status": .string(current.rawValue)])
        try current.canKill(id, all: all)
        if all {
            guard current != .stopped else {
                // As runc: --all of a stopped container signals whatever is left in its
                // cgroup (children of an init that shared a pid namespace) and succeeds.
                // containerd's runc shim sends `kill --all ID KILL` on every init exit
                // and, when it fails, never reports the exit to the CRI plugin.
                signalLeftovers(record, signal)
                return
            }
            record.signalAll(signal)
            // Processes in a sub-cgroup frozen on its own (v1: its parent's thaw does
            // not reach it) would keep SIGKILL pending for ever: they are dying, thaw
            // them. Other signals leave freezing alone.
            if signal == .kill, !record.cgroupPaths.isEmpty { cgroupManager(of: record).thawSubtree() }
        } else {
            try Processes.signal(record.pid, signal)
        }
        // A frozen process does not act on SIGKILL until it is thawed: thaw a paused
        // container after SIGKILL, as runc does, so that it dies now (Podman's kill of
        // a paused container waits for the exit). Other signals stay pending.
        if current == .paused, signal == .kill {
            try stage("kill \(id): thaw after SIGKILL") { try cgroupManager(of: record).thaw() }
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
}
