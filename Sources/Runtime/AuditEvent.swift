import OCI

/// A value in an audit record's details. The runtime only describes what happened;
/// whoever set `ContainerRuntime.audit` decides whether and where it is recorded.
public enum AuditValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    /// Already JSON text (an array or object the caller built).
    case json(String)
}

extension ContainerRuntime {
    /// Hands one lifecycle event to the audit closure. The details are built only if
    /// the closure asks (a plain container's cost is one dictionary lookup there).
    func recordAudit(_ annotations: [String: String]?, _ id: String, _ kind: String,
                     _ details: @autoclosure () -> [String: AuditValue]) {
        audit?(annotations, id, kind, details)
    }
}

/// A JSON array of strings, for `AuditValue.json`.
public func jsonArray(_ items: [String]) -> String {
    "[" + items.map(FlatJSONWriter.quoted).joined(separator: ",") + "]"
}
