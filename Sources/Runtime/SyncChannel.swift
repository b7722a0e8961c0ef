import Linux

/// The typed messages the runtime and the container's init processes exchange over
/// one SOCK_SEQPACKET socketpair (youki's process/channel.rs, crun's sync points).
enum SyncMessage: Equatable {
    /// runtime -> intermediate or init: you are in the container's cgroups; go on
    /// (a cgroup namespace must be created only after that).
    case cgroupsApplied
    /// runtime -> intermediate or init: the container's cgroup directories exist
    /// (enough to bind-mount them); joining them follows with `cgroupsApplied`.
    case cgroupDirectoriesMade(placement: String)
    /// intermediate -> runtime: my new user namespace needs its uid/gid maps.
    case needIDMaps
    /// runtime -> intermediate: the maps are written.
    case idMapsWritten
    /// intermediate -> runtime: the container init is this pid (host pid namespace).
    case initPid(Int32)
    /// init -> runtime: mounts are ready; run prestart and createRuntime hooks now.
    case readyForRuntimeHooks
    /// runtime -> init: hooks ran; here is the state to give createContainer and
    /// startContainer hooks.
    case runtimeHooksDone(state: String)
    /// init -> runtime: set-up finished; blocked until `start`.
    case ready
    /// init or exec'd process -> runtime: a seccomp notify descriptor follows (SCM_RIGHTS)
    /// for the runtime to hand to the listener.
    case seccompListenerFollows
    /// either way: a failure, as the one-line message the user will see.
    case failure(String)

    /// runtime -> init, with a descriptor (SCM_RIGHTS) rather than as a message: the
    /// network namespace the runtime made for it (NamespacePlan.networkFromRuntime),
    /// always the first thing sent.
    static let networkNamespaceTag: UInt8 = 11

    func encoded() -> [UInt8] {
        switch self {
        case .needIDMaps: return [1]
        case .idMapsWritten: return [2]
        case .initPid(let pid): return [3] + Array(String(pid).utf8)
        case .readyForRuntimeHooks: return [4]
        case .runtimeHooksDone(let state): return [5] + Array(state.utf8)
        case .ready: return [6]
        case .failure(let message): return [7] + Array(message.utf8)
        case .cgroupsApplied: return [8]
        case .cgroupDirectoriesMade(let placement): return [9] + Array(placement.utf8)
        case .seccompListenerFollows: return [10]
        }
    }

    init?(decoding bytes: [UInt8]) {
        guard let tag = bytes.first else { return nil }
        let payload = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch tag {
        case 1: self = .needIDMaps
        case 2: self = .idMapsWritten
        case 3:
            guard let pid = Int32(payload) else { return nil }
            self = .initPid(pid)
        case 4: self = .readyForRuntimeHooks
        case 5: self = .runtimeHooksDone(state: payload)
        case 6: self = .ready
        case 7: self = .failure(payload)
        case 8: self = .cgroupsApplied
        case 9: self = .cgroupDirectoriesMade(placement: payload)
        case 10: self = .seccompListenerFollows
        default: return nil
        }
    }
}

/// One end of the channel, with named waits that turn anything unexpected into an error.
struct SyncChannel {
    let socket: FileDescriptor

    func send(_ message: SyncMessage) throws {
        do {
            try socket.sendMessage(message.encoded())
        } catch let e as SystemError where e.code == .brokenPipe || e.code == .connectionReset {
            // The peer is gone (no one holds its end, so nothing below blocks): the
            // reason is the failure it sent last, still queued, not this send.
            for _ in 0..<8 {
                guard let bytes = try? socket.receiveMessage(), !bytes.isEmpty else { break }
                if case .failure(let text)? = SyncMessage(decoding: bytes) { throw RuntimeError(text) }
            }
            throw e
        }
    }

    /// Receives the next message; the peer's `failure` becomes a thrown error, and a
    /// closed channel means the peer died.
    /// `timeout`: nil for a child waiting on the runtime, which bounds its own steps
    /// and whose exit closes the channel.
    /// `check`, if given, runs about once a second while nothing arrives, so that a
    /// wait on an init that cannot make progress (its cgroup frozen under it) has a
    /// way out before the deadline: it throws to end the wait.
    func receive(_ waitingFor: String, timeout: Double? = SyncChannel.setupTimeout,
                 check: (() throws -> Void)? = nil) throws -> SyncMessage {
        try waitForMessage(waitingFor, timeout: timeout, check: check)
        let bytes: [UInt8]
        do {
            bytes = try socket.receiveMessage()
        } catch let e as SystemError where e.code == .connectionReset {
            // The peer exited without reading something we had sent; the kernel
            // reports that first (and clears it), while the peer's last message, its
            // failure, is still queued behind it.
            bytes = (try? socket.receiveMessage()) ?? []
        }
        if bytes.isEmpty {
            throw RuntimeError("container init exited unexpectedly while \(waitingFor)")
        }
        guard let message = SyncMessage(decoding: bytes) else {
            throw RuntimeError("unexpected message from container init while \(waitingFor)")
        }
        if case .failure(let text) = message { throw RuntimeError(text) }
        return message
    }

    func expect(_ expected: SyncMessage, _ waitingFor: String, timeout: Double? = SyncChannel.setupTimeout) throws {
        let got = try receive(waitingFor, timeout: timeout)
        guard got == expected else {
            throw RuntimeError("unexpected message from container init while \(waitingFor)")
        }
    }

    /// How long one step of the container's set-up may keep the runtime waiting. A
    /// peer that died is seen at once (its end closes); this bounds a peer that lives
    /// but never answers (a stuck mount, a child blocked on the runtime itself), which
    /// would otherwise hold `create` for ever.
    static let setupTimeout: Double = 120

    /// How often a wait looks for a termination signal the caller has blocked (`run`
    /// blocks the signals it forwards before it creates the container).
    static let signalCheckInterval: Int32 = 200

    /// Waits until a message, or the peer's end, can be read: at most `timeout`
    /// seconds, and only until a SIGTERM, SIGINT or SIGHUP is pending. Every failure
    /// names the step waited for.
    func waitForMessage(_ waitingFor: String, timeout: Double?, check: (() throws -> Void)? = nil) throws {
        guard let timeout else { return }
        let start = MonotonicClock.seconds()
        let end = start + timeout
        var nextCheck = start + 1
        while true {
            let remaining = end - MonotonicClock.seconds()
            if remaining <= 0 {
                throw RuntimeError("timed out after \(Int(min(timeout, 1e9))) s while \(waitingFor): the container init did not answer")
            }
            // In Double first: hook timeouts can make `remaining` larger than Int32 ms.
            let slice = Int32(min(Double(Self.signalCheckInterval), (remaining * 1000).rounded(.up)))
            do {
                if try socket.waitUntilReadable(milliseconds: max(1, slice)) { return }
            } catch let e as SystemError {
                throw RuntimeError("poll on the container init's channel while \(waitingFor): \(SystemError.message(for: e.errno))")
            }
            if let signal = Self.pendingTermination() {
                throw RuntimeError("interrupted by signal \(signal) while \(waitingFor)")
            }
            if let check, end - remaining >= nextCheck {
                nextCheck += 1
                try check()
            }
        }
    }

    /// A termination signal waiting behind the caller's signal mask, if any (one not
    /// blocked would have ended the process already).
    static func pendingTermination() -> Int32? {
        Signals.firstPending(of: [.term, .interrupt, .hangup])?.rawValue
    }
}
