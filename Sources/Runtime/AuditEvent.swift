import Linux
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

extension ContainerRuntime {
    /// Runs one stage's hooks (HookRunner) and puts the run, or its failure, on the
    /// record. A stage without hooks records nothing.
    func runHooks(_ kind: HookKind, of hooks: Hooks?, state: String, annotations: [String: String]?, id: String) throws {
        let list = kind.hooks(in: hooks)
        guard !list.isEmpty else { return }
        do {
            try HookRunner.run(kind, of: hooks, state: state)
        } catch {
            recordAudit(annotations, id, "hook", ["stage": .string(kind.rawValue), "hooks": .int(Int64(list.count)),
                                                  "error": .string("\(error)")])
            throw error
        }
        recordAudit(annotations, id, "hook", ["stage": .string(kind.rawValue), "hooks": .int(Int64(list.count))])
    }
}

extension ContainerRuntime {
    /// Before a sandbox's ephemeral root goes: the warden's report (reason, OOM kills,
    /// forks refused) and the root's change set, on the record. `agent run` records
    /// its own (SandboxRunner), so this is for an engine's delete or plain `run`.
    func recordEnd(_ record: ContainerRecord) {
        guard record.ephemeralRoot, audit != nil else { return }
        recordAudit(record.annotations, record.id, "warden", {
            if let warden = record.liveWardenPid { _ = Processes.waitForExit(warden, timeout: 2) }
            guard let bytes = try? Files.read(store.directory(of: record.id) + "/warden.json", limit: 1 << 16) else { return [:] }
            let text = String(decoding: bytes, as: UTF8.self)
            return ["report": .json(text.hasSuffix("\n") ? String(text.dropLast()) : text)]
        }())
        recordAudit(record.annotations, record.id, "changes",
                    ChangeSet.compute(upper: EphemeralRoot.directory(root: store.root, id: record.id) + "/upper",
                                      lower: record.rootfs).auditDetails)
        for details in EgressDecisions.auditDetails(EgressDecisions.read(directory: store.directory(of: record.id))) {
            recordAudit(record.annotations, record.id, "egress", details)
        }
    }
}

/// The warden's egress decisions (`<state dir>/egress.jsonl`, one JSON object a line,
/// written as they happen) become one `egress` audit record each when the sandbox
/// ends, in the same burst as its other end records, before the state directory goes.
public enum EgressDecisions {
    public static let fileName = "egress.jsonl"
    /// Decisions put on the record per sandbox; past it, one record counts the rest
    /// (they went by in the live file and `agent run`'s summary), so a sandbox that
    /// makes a million connections cannot make its end a million appends.
    public static let auditLimit = 2000

    public static func read(directory: String) -> [String] {
        guard let bytes = try? Files.read(directory + "/" + fileName, limit: 16 << 20) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    public static func auditDetails(_ lines: [String]) -> [[String: AuditValue]] {
        var out = lines.prefix(auditLimit).map { ["decision": AuditValue.json($0)] }
        if lines.count > auditLimit { out.append(["omitted": .int(Int64(lines.count - auditLimit)), "limit": .int(Int64(auditLimit))]) }
        return out
    }
}

extension ChangeSet {
    /// The change set as audit details: counts, bytes and the first 1000 entries.
    public var auditDetails: [String: AuditValue] {
        let shown = entries.prefix(1000).map {
            "{\"path\":\(FlatJSONWriter.quoted($0.path)),\"kind\":\"\($0.kind.rawValue)\",\"size\":\($0.size)}"
        }
        var d: [String: AuditValue] = [
            "created": .int(Int64(count(.created))), "modified": .int(Int64(count(.modified))),
            "deleted": .int(Int64(count(.deleted))), "bytes": .int(Int64(bytes)),
            "entries": .json("[" + shown.joined(separator: ",") + "]"),
        ]
        if entries.count > 1000 { d["omitted"] = .int(Int64(entries.count - 1000)) }
        return d
    }
}
