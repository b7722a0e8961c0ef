import ContainerCore
import Linux
import OCI

/// gVisor's engine: `runsc`, under `<root>/@runsc`, runs the container in a user-space
/// kernel; safehouse keeps its own record (which runsc binary, which sandbox flags)
/// and the agent treatment around the sandbox. Each verb is a file of its own
/// (`GvisorBackend+Kill.swift`, ...): it runs the matching runsc command with the
/// sandbox's recorded flags and maps its state and errors to runc's (RunscError).
struct GvisorBackend: ContainerBackend {
    let runtime: ContainerRuntime

    var store: StateStore { runtime.store }
    var log: RuntimeLog { runtime.log }

    /// runsc's view of the container: its status and the sandbox pid. A container
    /// runsc does not know (its create died, or its foreground `run` ended) is stopped.
    func state(of record: ContainerRecord) -> (status: ContainerStatus, pid: Int32) {
        guard let result = try? runsc(record, ["state", record.id]).capture(), result.status == .exited(0) else {
            return (.stopped, 0)
        }
        return Self.parseRunscState(result.stdout)
    }

    /// runsc's state document (runc's shape: status, pid; -1 when stopped).
    static func parseRunscState(_ text: String) -> (status: ContainerStatus, pid: Int32) {
        guard let o = FlatJSONObject(parsing: Array(text.utf8)),
              let status = o.string("status").flatMap(ContainerStatus.init(rawValue:)) else { return (.stopped, 0) }
        let pid = Int32(truncatingIfNeeded: o.int64("pid") ?? 0)
        return status == .stopped ? (.stopped, 0) : (status, max(pid, 0))
    }
}
