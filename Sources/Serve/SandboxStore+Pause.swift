import Foundation

extension SandboxStore {
    /// Freezes every process of the sandbox (`safehouse pause`: the cgroup freezer).
    ///
    /// The deadline keeps running while it is paused: a frozen sandbox still holds its
    /// memory, its root and its cgroups, so pausing is no way past its timeout. The
    /// reaper deletes a paused sandbox at its deadline like any other; `set_timeout`
    /// moves the deadline of a paused one, and `resume` may set a new one.
    func pause(_ id: String) throws -> SandboxRecord {
        try lifecycle.withLock {
            var record = try get(id)
            guard record.pausedAt == nil else { throw APIError.conflict("sandbox \(id) is paused already") }
            guard Routes.isAlive(record.pid) else { throw APIError.conflict("sandbox \(id) is not running") }
            let out = try runtime.run(["pause", id])
            guard out.status == 0 else { throw APIError.runtime("pause: \(out.errorLine)") }
            record.pausedAt = Date()
            try update(record)
            events.publish(id, "paused", ["expiresAt": Timestamp.string(record.expiresAt)])
            return record
        }
    }

    /// Thaws a paused sandbox; with `timeout`, its deadline moves to that many seconds
    /// from now (else it stays where it was).
    func resume(_ id: String, timeout: Int?) throws -> SandboxRecord {
        try lifecycle.withLock {
            var record = try get(id)
            guard record.pausedAt != nil else { throw APIError.conflict("sandbox \(id) is not paused") }
            let out = try runtime.run(["resume", id])
            guard out.status == 0 else { throw APIError.runtime("resume: \(out.errorLine)") }
            record.pausedAt = nil
            if let timeout { record.expiresAt = Date().addingTimeInterval(TimeInterval(timeout)) }
            try update(record)
            events.publish(id, "resumed", ["expiresAt": Timestamp.string(record.expiresAt)])
            return record
        }
    }

    /// The sandbox's state for the API without asking the runtime: paused (the
    /// service's record), running (its init alive) or stopped.
    func quickState(_ record: SandboxRecord) -> String {
        if record.pausedAt != nil { return "paused" }
        return Routes.isAlive(record.pid) ? "running" : "stopped"
    }

    /// The 409 for a command in a sandbox that cannot take one.
    func requireRunning(_ record: SandboxRecord) throws {
        if record.pausedAt != nil {
            throw APIError.conflict("sandbox \(record.id) is paused (resume it first)")
        }
        // A stopped sandbox (agent stop-all, an OOM kill of its init) takes no commands:
        // the exec's own failure would otherwise read as the command's stderr.
        guard Routes.isAlive(record.pid) else { throw APIError.conflict("sandbox \(record.id) is not running") }
    }
}
