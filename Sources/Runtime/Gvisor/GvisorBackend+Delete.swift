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
            try runscVerb(record, "resume")
        }
        runtime.recordEnd(record)
        try destroy(record)
        runtime.recordAudit(record.annotations, record.id, "delete", ["force": .string(force ? "true" : "false")])
    }
}
