import Runtime

/// The CLI's lifecycle observer: a sandbox's events go to its audit log (AuditSink),
/// a plain container's nowhere.
struct AuditObserver: LifecycleObserver {
    func record(_ annotations: [String: String]?, _ id: String, _ kind: String, _ details: () -> [String: AuditValue]) {
        AuditSink.record(annotations, id, kind, details)
    }

    func reserve(_ annotations: [String: String]?, _ id: String) {
        AuditSink.reserve(annotations, id)
    }
}

/// `agent run` holds its sandbox's records and writes them in a few appends.
extension AuditBatch: LifecycleObserver {
    func reserve(_ annotations: [String: String]?, _ id: String) {
        AuditSink.reserve(annotations, id)
    }
}
