import OCI

/// Which verbs each status allows, in one place, for every backend: each check
/// returns when the verb may go ahead and otherwise throws runc's own refusal, word for
/// word (engines and tests match these texts). Statuses are derived fresh by the
/// backend (`ContainerBackend.state(of:)`) just before a verb checks them.
extension ContainerStatus {
    /// `start`: only a created container starts.
    public func canStart() throws {
        switch self {
        case .created: return
        case .stopped: throw RuntimeError.refused("cannot start a container that has stopped")
        case .running: throw RuntimeError.refused("cannot start an already running container")
        case .paused: throw RuntimeError.refused("cannot start a container in the paused state")
        case .creating: throw RuntimeError.refused("cannot start a container that is still being created")
        }
    }

    /// `kill`: a single signal needs a live init. `--all` of a stopped container is
    /// allowed (runc signals whatever is left and succeeds: containerd's runc shim
    /// sends `kill --all ID KILL` after every exit and treats a failure as an error).
    public func canKill(_ id: String, all: Bool) throws {
        if self == .stopped && !all { throw RuntimeError.containerNotRunning(id, self) }
    }

    /// `delete`: a stopped or created container goes (a created one never ran, and
    /// runc deletes it without --force); anything live needs `force`.
    public func canDelete(_ id: String, force: Bool) throws {
        if !force && self != .stopped && self != .created {
            throw RuntimeError.refused("cannot delete container \(id) that is not stopped: \(rawValue)")
        }
    }

    /// `pause`: a running or a created container freezes (runc freezes a created one
    /// too: it then reads paused, refuses `start` until `resume`, and reads created
    /// again after it). Anything else is refused with runc's "container not running".
    public func canPause(_ id: String) throws {
        if self != .running && self != .created { throw RuntimeError.containerNotRunning(id, self) }
    }

    /// `resume`: only a paused container thaws; runc's words otherwise.
    public func canResume(_ id: String) throws {
        if self != .paused { throw RuntimeError.refused("container \"\(id)\" is \(rawValue): container not paused") }
    }

    /// `exec`: a created or running container takes another process. In a paused one
    /// the process would start frozen and an attached caller hang: refused unless the
    /// caller asked for it (`ignorePaused`; nil where the backend has no such override,
    /// and then the refusal does not offer one).
    public func canExec(ignorePaused: Bool?) throws {
        switch self {
        case .created, .running: return
        case .paused:
            guard let ignorePaused else { throw RuntimeError.refused("cannot exec in a paused container") }
            // runc's words.
            if !ignorePaused { throw RuntimeError.refused("cannot exec in a paused container (use --ignore-paused to override)") }
        case .stopped, .creating: throw RuntimeError.refused("cannot exec in a stopped container")
        }
    }

    /// `checkpoint`: a running or paused container (a paused one is dumped frozen), in
    /// runc's words otherwise.
    public func canCheckpoint() throws {
        if self != .running && self != .paused {
            throw RuntimeError.refused("Container cannot be checkpointed in \(rawValue) state")
        }
    }

    /// `update`, `events --stats`: anything but a stopped container.
    public func canUpdate(_ id: String) throws {
        if self == .stopped { throw RuntimeError.containerNotRunning(id, self) }
    }
}
