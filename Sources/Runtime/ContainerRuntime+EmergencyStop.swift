import ContainerCore
import Cgroups
import Linux
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRuntime {
    /// The file a stopped sandbox carries so its summary can say it was stopped.
    public static let stopMarker = "stopped"

    /// The emergency stop: for every container under the root that `matching`
    /// selects and that has not stopped, tell its warden (SIGTERM: it kills and
    /// reports) and kill its whole cgroup directly (cgroup-wide SIGKILL; the warden
    /// may be gone). Every container is signalled before any is waited for. Returns
    /// the ids stopped.
    public func emergencyStop(matching: (ContainerRecord) -> Bool) -> [String] {
        var stopped: [ContainerRecord] = []
        var statuses: [String] = [], times: [String] = []
        for id in store.ids() {
            guard let record = try? store.load(id), matching(record) else { continue }
            let current = status(of: record)
            if current == .stopped { continue }
            statuses.append(current.rawValue)
            times.append(observer == nil ? "" : Clock.rfc3339Now())
            observer?.reserve(record.annotations, id)
            try? Files.write(store.directory(of: id) + "/" + Self.stopMarker, "emergency stop\n",
                             flags: O_WRONLY | O_CREAT | O_TRUNC)
            if let warden = record.liveWardenPid { _ = Glibc.kill(warden, SIGTERM) }
            if record.cgroupPaths.isEmpty {
                record.signalAll(.kill)
            } else {
                CgroupManager(recordedPaths: record.cgroupPaths).killAll()
            }
            stopped.append(record)
        }
        // On the record once every sandbox is signalled (stopping comes first: an audit
        // append is a process spawn). The stop's own time is in the details, since its
        // record may land after the exit record it caused. Who asked is the audit
        // observer's to add (the caller's uid, pid, parent).
        for (i, record) in stopped.enumerated() {
            recordAudit(record.annotations, record.id, "stop", ["reason": .string("emergency stop"),
                                                                "status": .string(statuses[i]), "signalled": .string(times[i])])
        }
        for record in stopped { _ = Processes.waitForExit(record.pid, timeout: 5) }
        return stopped.map(\.id)
    }
}
