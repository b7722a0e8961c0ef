import Linux
import OCI

extension ContainerRuntime {
    /// The status of a container, derived from the live process rather than trusted
    /// from disk: its init must exist with the recorded start time (a recycled pid
    /// does not count); the exec FIFO exists until `start`.
    func status(of record: ContainerRecord) -> ContainerStatus {
        guard record.pid > 0,
              Processes.startTime(of: record.pid) == record.pidStartTime,
              Processes.isAlive(record.pid) else { return .stopped }
        if Files.exists(store.fifoPath(of: record.id)) { return .created }
        if Freezer.isFrozen(pid: record.pid) { return .paused }
        return .running
    }
}

/// Reads whether a process is frozen by the cgroup freezer (v1 or v2), for `paused`.
enum Freezer {
    static func isFrozen(pid: Int32) -> Bool {
        guard let text = try? Files.readString("/proc/\(pid)/cgroup") else { return false }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1] == "freezer" {
                let state = (try? Files.readString("/sys/fs/cgroup/freezer\(parts[2])/freezer.state")) ?? ""
                if state.hasPrefix("FROZEN") || state.hasPrefix("FREEZING") { return true }
            }
        }
        return false
    }
}
