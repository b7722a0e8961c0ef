import Cgroups
import Linux
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRecord {
    /// The host pids of the container's processes, init first: those in its cgroups
    /// when it has any, else those in its pid namespace when it has its own, else the
    /// init and its descendants.
    package func processes() -> [Int32] {
        // The cgroup holds exactly the container's processes (and forks cannot escape it).
        if !cgroupPaths.isEmpty {
            let members = CgroupManager(paths: cgroupPaths).processes()
            return [pid] + members.filter { $0 != pid }
        }
        let all = Processes.all()
        if ownsPidNamespace, let ns = Namespaces.identity(of: .pid, pid: pid) {
            return [pid] + all.filter { $0 != pid && Namespaces.identity(of: .pid, pid: $0) == ns }
        }
        var parents: [Int32: Int32] = [:]
        for pid in all { if let p = Processes.parent(of: pid) { parents[pid] = p } }
        var members: Set<Int32> = [pid]
        var changed = true
        while changed {
            changed = false
            for (child, parent) in parents where !members.contains(child) && members.contains(parent) {
                members.insert(child)
                changed = true
            }
        }
        return [pid] + members.subtracting([pid]).sorted()
    }

    /// Signals every process of the container (`processes()`).
    package func signalAll(_ signal: Signal) {
        for pid in processes() {
            _ = Glibc.kill(pid, signal.rawValue)
        }
    }
}
