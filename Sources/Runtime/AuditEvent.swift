import ContainerCore
import Sandbox
import Linux
import SandboxInterface
import OCI
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRuntime {
    /// Hands one lifecycle event to the observer. The details are built only if the
    /// observer asks (a plain container's cost is one dictionary lookup there).
    func recordAudit(_ annotations: [String: String]?, _ id: String, _ kind: String,
                     _ details: @autoclosure () -> [String: AuditValue]) {
        observer?.record(annotations, id, kind, details)
    }
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

    /// prestart and createRuntime, in the runtime's namespaces once the container's are
    /// made; both see the state "created". Returns that state.
    func runCreateHooks(_ record: ContainerRecord) throws -> String {
        let state = try stateJSON(record, status: .created)
        try runHooks(.prestart, of: record.hooks, state: state, annotations: record.annotations, id: record.id)
        try runHooks(.createRuntime, of: record.hooks, state: state, annotations: record.annotations, id: record.id)
        return state
    }

    /// The `exit` record of a container whose init this process waited for.
    func recordExit(_ record: ContainerRecord, _ status: ExitStatus) {
        recordAudit(record.annotations, record.id, "exit", Self.exitDetails(status))
    }

    /// An `exit` record's details: the code (128 + signal for a signal death) and the signal.
    static func exitDetails(_ status: ExitStatus) -> [String: AuditValue] {
        switch status {
        case .exited(let code): return ["code": .int(Int64(code))]
        case .signaled(let signal): return ["code": .int(Int64(status.shellCode)), "signal": .int(Int64(signal))]
        }
    }

    /// What follows either engine's start: the warden told, the event recorded, the
    /// poststart hooks run.
    func didStart(_ record: ContainerRecord) {
        // A sandbox's wall-clock limit runs from start (WardenLauncher, Warden).
        if let warden = record.liveWardenPid { _ = Glibc.kill(warden, SIGUSR1) }
        recordAudit(record.annotations, record.id, "start", ["pid": .int(Int64(record.pid))])
        runHooksWarning(.poststart, of: record, status: .running)
    }

    /// poststart and poststop: their failures are warnings, as the container already
    /// runs, or has ended (runtime spec).
    func runHooksWarning(_ kind: HookKind, of record: ContainerRecord, status: ContainerStatus) {
        guard !kind.hooks(in: record.hooks).isEmpty else { return }
        do {
            try runHooks(kind, of: record.hooks, state: try stateJSON(record, status: status),
                         annotations: record.annotations, id: record.id)
        } catch {
            log.warning("\(error)")
        }
    }
}

extension ContainerRuntime {
    /// Before a sandbox's ephemeral root goes: the warden's report (reason, OOM kills,
    /// forks refused, the init's exit as taskstats told it) and the root's change set,
    /// on the record. `agent run` records its own (SandboxRunner), so this is for an
    /// engine's delete or plain `run`. The egress decisions are not here: the warden
    /// appended each to the log as it was made.
    ///
    /// The `exit` record, exactly once: `run` (the init's parent) wrote it already
    /// (`exitRecorded`); otherwise the warden, watching the init through taskstats,
    /// wrote it when the init exited and says so in its report (`exitRecorded`). Only
    /// when the warden is gone without having written it (killed, or no audit log of
    /// its own) does delete write it here, from the report's status if it has one. A
    /// warden still alive after the wait is left to write it.
    func recordEnd(_ record: ContainerRecord, exitRecorded: Bool = false) {
        guard record.ephemeralRoot, observer != nil else { return }
        var wardenAlive = false
        var report: WardenReport?
        recordAudit(record.annotations, record.id, "warden", {
            if let warden = record.liveWardenPid { wardenAlive = !Processes.waitForExit(warden, timeout: 2) }
            guard let file = WardenReport.read(stateDirectory: store.directory(of: record.id)) else { return [:] }
            report = file.report
            // On the record as the warden wrote it.
            return ["report": .json(file.text.hasSuffix("\n") ? String(file.text.dropLast()) : file.text)]
        }())
        if !exitRecorded, !wardenAlive, report?.exitRecorded != true {
            recordAudit(record.annotations, record.id, "exit", Self.exitDetails(report: report))
        }
        recordAudit(record.annotations, record.id, "changes",
                    ChangeSet.compute(upper: EphemeralRoot.directory(root: store.root, id: record.id) + "/upper",
                                      lower: record.rootfs).auditDetails)
    }

    /// The `exit` details delete writes when the warden did not: its report's status,
    /// else why it is unknown.
    static func exitDetails(report: WardenReport?) -> [String: AuditValue] {
        if let exit = report?.exit { return exitDetails(exit) }
        let why = report?.exitUnknown ?? (report == nil ? "the warden left no report" : "the warden did not watch for it")
        return ["error": .string("exit status unknown: " + why)]
    }
}

/// The warden's egress decisions (`<state dir>/egress.jsonl`, one JSON object a line,
/// written as they happen), read for `agent run`'s summary before the state directory
/// goes. The audit log has them already (the warden's AuditAppender).
public enum EgressDecisions {
    public static let fileName = "egress.jsonl"

    public static func read(directory: String) -> [String] {
        guard let bytes = try? Files.read(directory + "/" + fileName, limit: 16 << 20) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
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
