import ContainerCore
import OCI

extension GvisorBackend {
    /// `pause` and `resume`: runsc's.
    func pause(_ record: ContainerRecord, _ pause: Bool) throws {
        let current = state(of: record).status
        if pause { try current.canPause(record.id) } else { try current.canResume(record.id) }
        // runsc pauses only a started sandbox (runc also freezes a created container).
        if pause && current == .created {
            throw RuntimeError.refused("container \"\(record.id)\" is created: the gvisor backend pauses only a started container")
        }
        let verb = pause ? "pause" : "resume"
        try runscVerb(record, verb)
        runtime.recordAudit(record.annotations, record.id, verb, [:])
    }
}
