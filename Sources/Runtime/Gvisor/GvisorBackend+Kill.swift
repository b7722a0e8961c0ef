import ContainerCore
import Linux
import OCI

extension GvisorBackend {
    /// `kill`: `runsc kill`, with runc's answers where runsc refuses.
    func kill(_ record: ContainerRecord, signal: Signal, all: Bool) throws {
        let current = state(of: record).status
        runtime.recordAudit(record.annotations, record.id, "kill", ["signal": .int(Int64(signal.rawValue)), "all": .string(all ? "true" : "false"),
                                                                    "status": .string(current.rawValue)])
        // As runc (and native): --all of a stopped container succeeds; containerd's
        // shim sends it after every exit.
        try current.canKill(record.id, all: all)
        if current == .stopped { return }
        // Signal 0 probes (kill(2)); runsc refuses it as a signal. The state says it.
        if signal.rawValue == 0 { return }
        if current == .paused && signal == .kill {
            // runsc refuses to signal a paused container; runc sends SIGKILL and
            // thaws, so that it dies now. runsc must resume before it can kill (the
            // process runs for the moment between the two).
            try runscVerb(record, "resume")
        }
        if current == .created {
            // runsc refuses to signal a container that has not started; runc's kill
            // of a created container ends it (its init dies blocked on the exec FIFO).
            // The same here: the sandbox process goes, and with it the container.
            try Processes.signal(record.pid, .kill)
            _ = Processes.waitForExit(record.pid, timeout: 10)
            return
        }
        _ = try runsc(record, ["kill"] + (all ? ["--all"] : []) + [record.id, String(signal.rawValue)]).checked(verb: "kill", id: record.id)
    }
}
