import Linux
import OCI

/// Who hears of a container's lifecycle: the runtime describes each event (create,
/// start, exec, kill, pause, resume, hook, delete, exit, stop, ...) and the observer
/// decides whether and where it goes. The CLI's records a sandbox's events in its
/// audit log and drops a plain container's at once, never building their details.
public protocol LifecycleObserver {
    /// One event of container `id` (whose annotations say what it is). `details` is
    /// called only if the event is kept: a plain container's cost is the call.
    func record(_ annotations: [String: String]?, _ id: String, _ kind: String, _ details: () -> [String: AuditValue])
    /// Before an event whose record must come later (the emergency stop signals
    /// first): the observer takes the log's place in line, so that the record still
    /// precedes whatever the stopped sandbox writes after it (its close).
    func reserve(_ annotations: [String: String]?, _ id: String)
    /// A foreground `run` reaped a child that is not the container's init (a sandbox's
    /// warden is one: `agent run` stops the sandbox when it dies).
    func otherChildExited(_ pid: Int32)
}

extension LifecycleObserver {
    public func reserve(_ annotations: [String: String]?, _ id: String) {}
    public func otherChildExited(_ pid: Int32) {}
}

/// A value in a lifecycle event's details.
public enum AuditValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    /// Already JSON text (an array or object the caller built).
    case json(String)
}

/// A JSON array of strings, for `AuditValue.json`.
public func jsonArray(_ items: [String]) -> String {
    "[" + items.map(FlatJSONWriter.quoted).joined(separator: ",") + "]"
}
