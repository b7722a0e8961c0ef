import AuditChain
import Foundation

/// Records whose details are Swift values rather than JSON text (tests, and callers
/// that build details as dictionaries): through JSONSerialization, which is why this
/// lives here and not in AuditChain, which the runtime links without Foundation.
extension AuditLog {
    /// Appends one record; returns its sequence number. The line is one write(2) to a
    /// file opened O_APPEND, under an exclusive flock, so concurrent writers (the CLI,
    /// hooks, the warden) never interleave and each sees the line before its own. A
    /// torn last line (a writer died mid-line) is an error: it is reported, never
    /// completed or overwritten.
    @discardableResult
    public func append(id: String, kind: String, details: [String: Any] = [:]) throws -> UInt64 {
        try append(id: id, records: [(kind, details)])
    }

    /// Appends several records of one sandbox in one write (what happened at the end
    /// of a run: exit, delete, limits, changes); returns the last one's sequence number.
    @discardableResult
    public func append(id: String, records: [(kind: String, details: [String: Any])], lockedFD: Int32? = nil) throws -> UInt64 {
        try append(id: id, canonicalDetails: records.map { (kind: $0.kind, details: try detailsJSON($0.details)) }, lockedFD: lockedFD)
    }
}

/// Details through JSONSerialization (sorted keys, compact: never a newline): the same
/// details always make the same bytes.
private func detailsJSON(_ o: [String: Any]) throws -> String {
    guard JSONSerialization.isValidJSONObject(o) else { throw AuditError("details are not JSON: \(o)") }
    let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}
