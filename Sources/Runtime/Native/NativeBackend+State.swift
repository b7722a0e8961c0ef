import ContainerCore
import Linux
import OCI

extension NativeBackend {
    /// The status and the recorded init's pid (which `state` shows as 0 once stopped).
    func state(of record: ContainerRecord) -> (status: ContainerStatus, pid: Int32) {
        (status(of: record), record.pid)
    }

    /// The status of a container, derived from the live process rather than trusted
    /// from disk: its init must exist with the recorded start time (a recycled pid
    /// does not count); a frozen cgroup is paused;
    /// the exec FIFO exists until `start`.
    func status(of record: ContainerRecord) -> ContainerStatus {
        guard record.pid > 0,
              Processes.startTime(of: record.pid) == record.pidStartTime,
              Processes.isAlive(record.pid) else { return .stopped }
        // Frozen first, as runc: a created container can be paused too, and reads
        // paused (not created) until it is resumed.
        if Freezer.isFrozen(cgroupPaths: record.cgroupPaths) { return .paused }
        if Files.exists(store.fifoPath(of: record.id)) { return .created }
        return .running
    }
}

/// Whether a container's cgroup is frozen (paused), from its recorded directories:
/// the v1 freezer's `freezer.state`, or v2's `cgroup.events` ("frozen 1"). Reads two
/// small files at most; no layout discovery on this path, which every command takes.
enum Freezer {
    static func isFrozen(cgroupPaths: [String]) -> Bool {
        for path in cgroupPaths {
            if let state = try? Files.readString(path + "/freezer.state") {
                return state.hasPrefix("FROZEN") || state.hasPrefix("FREEZING")
            }
        }
        for path in cgroupPaths {
            if let events = try? Files.readString(path + "/cgroup.events"), Files.exists(path + "/cgroup.freeze") {
                return events.split(separator: "\n").contains("frozen 1")
            }
        }
        return false
    }
}
