import ContainerCore
import Cgroups
import Linux
import OCI

extension ContainerRuntime {
    /// `pause`: freezes every process of a running container (cgroup freezer, v1 or v2).
    public func pause(id: String) throws {
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        if record.backend == .gvisor { return try pauseGvisor(record, pause: true) }
        switch status(of: record) {
        case .running: break
        case .paused: throw RuntimeError("container \(id) is already paused")
        default: throw RuntimeError.containerNotRunning(id)
        }
        do { try cgroupManager(of: record).freeze() } catch {
            throw RuntimeError("pause \(id): \(error)")
        }
        recordAudit(record.annotations, id, "pause", [:])
    }

    /// `resume`: thaws a paused container.
    public func resume(id: String) throws {
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        if record.backend == .gvisor { return try pauseGvisor(record, pause: false) }
        guard status(of: record) == .paused else { throw RuntimeError("container \(id) is not paused") }
        do { try cgroupManager(of: record).thaw() } catch {
            throw RuntimeError("resume \(id): \(error)")
        }
        recordAudit(record.annotations, id, "resume", [:])
    }

    /// The manager for a created container's cgroups, with the host's layout (the
    /// paths recorded at create are in the layout's order).
    func cgroupManager(of record: ContainerRecord) -> CgroupManager {
        CgroupManager(recordedPaths: record.cgroupPaths)
    }
}
