import ContainerCore
import Cgroups
import Linux
import OCI

extension NativeBackend {
    /// `pause` freezes every process of a running container (cgroup freezer, v1 or
    /// v2); `resume` thaws a paused one.
    func pause(_ record: ContainerRecord, _ pause: Bool) throws {
        let id = record.id
        let verb = pause ? "pause" : "resume"
        if pause { try status(of: record).canPause(id) } else { try status(of: record).canResume(id) }
        try stage("\(verb) \(id)") {
            if pause { try cgroupManager(of: record).freeze() } else { try cgroupManager(of: record).thaw() }
        }
        runtime.recordAudit(record.annotations, id, verb, [:])
    }
}
