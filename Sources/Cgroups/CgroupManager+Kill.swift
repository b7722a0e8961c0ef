import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The emergency stop: every process of the container dies, including ones forked
/// while the kill is under way.
extension CgroupManager {
    /// SIGKILL to the whole cgroup: v2's cgroup.kill where the container has a v2
    /// directory of its own (atomic in the kernel; on a hybrid host every process is
    /// in the unified hierarchy too, so it covers the container there); otherwise freeze, kill every
    /// member, thaw (a frozen process cannot fork, so none slips out), as runc's
    /// `kill --all` does. Returns how many processes were signalled.
    @discardableResult
    public func killAll() -> Int {
        let before = processes()
        if let u = layout.unified, let dir = directory(in: u), dir != u.mountPoint,
           Files.exists(dir + "/cgroup.kill"), (try? Self.write(dir + "/cgroup.kill", "1")) != nil {
            return before.count
        }
        let frozen = (try? freeze()) != nil
        var signalled = Set<Int32>()
        for _ in 0..<100 {
            let members = processes().filter { !signalled.contains($0) }
            if members.isEmpty { break }
            for pid in members { _ = Glibc.kill(pid, SIGKILL); signalled.insert(pid) }
        }
        if frozen { try? thaw() }
        return max(signalled.count, before.count)
    }

    /// How many times a fork failed at the pids limit (pids.events "max", v1 and v2).
    public func pidsLimitHits() -> UInt64 {
        guard let (dir, _) = directory(for: "pids") else { return 0 }
        return Self.keyValues(dir + "/pids.events")["max"] ?? 0
    }
}
