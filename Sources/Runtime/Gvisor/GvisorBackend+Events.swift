import ContainerCore

extension GvisorBackend {
    /// `events` (and `events --stats`): runsc's own, which are in runc's shape and
    /// count what runs inside the sandbox. Replaces this process.
    func delegateEvents(of record: ContainerRecord, stats: Bool, interval: String) throws -> Bool {
        guard let seconds = RunscFlags.intervalSeconds(interval) else {
            throw RuntimeError("--interval: \"\(interval)\" is not a positive number of seconds")
        }
        throw runsc(record, ["events"] + (stats ? ["--stats"] : ["--interval", String(seconds)]) + [record.id]).replace()
    }
}
