import ContainerCore
import OCI

extension GvisorBackend {
    /// `delete`: runsc's sandbox and state, then ours.
    func delete(_ record: ContainerRecord, force: Bool) throws {
        let current = state(of: record).status
        try current.canDelete(record.id, force: force)
        // runsc's delete --force of a paused sandbox fails (its kill cannot reach a
        // stopped sentry): resume it first, as runc thaws before it kills.
        if current == .paused {
            let result = try runsc(record, ["resume", record.id]).capture()
            guard result.status == .exited(0) else {
                throw RunscError.message(verb: "resume", id: record.id, runscText: result.stderr)
            }
        }
        runtime.recordEnd(record)
        try destroy(record)
        runtime.recordAudit(record.annotations, record.id, "delete", ["force": .string(force ? "true" : "false")])
    }
}
