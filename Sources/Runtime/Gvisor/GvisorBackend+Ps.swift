import ContainerCore
import Linux
import OCI

extension GvisorBackend {
    /// The host pids of a gvisor container: the sandbox and what runsc put in its
    /// cgroups (what runc's `ps --format json` lists: pids the host can signal).
    func processIDs(of record: ContainerRecord) throws -> [Int32] {
        let (status, pid) = state(of: record)
        guard status != .stopped, pid > 0 else { return [] }
        var live = record
        live.pid = pid
        return live.processes().filter { Processes.isAlive($0) }
    }

    /// `ps` (table): runsc's list of the processes inside the sandbox (the host's `ps`
    /// would show only runsc's own processes), whatever the `ps` arguments.
    func processTable(of record: ContainerRecord, psArguments: [String]) throws -> String {
        let table = try runscVerb(record, "ps")
        return table.hasSuffix("\n") ? String(table.dropLast()) : table
    }
}
