import Linux
#if canImport(Glibc)
import Glibc
#endif

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
        } catch let e as SystemError where e.errno == EPIPE || e.errno == ECONNRESET {
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
    func receive(_ waitingFor: String) throws -> SyncMessage {
        let bytes: [UInt8]
        do {
            bytes = try socket.receiveMessage()
        } catch let e as SystemError where e.errno == ECONNRESET {
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

    /// `receive`, calling `check` every `interval` seconds while nothing arrives, so
    /// that a wait on the init has a way out when the init cannot make progress (its
    /// cgroup frozen under it): `check` throws to end the wait.
    func receive(_ waitingFor: String, checkingEvery interval: Double, _ check: () throws -> Void) throws -> SyncMessage {
        var pfd = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&pfd, 1, Int32(interval * 1000))
            if ready > 0 { break }
            if ready < 0 && errno != EINTR { break }   // let receive report it
            if ready == 0 { try check() }
        }
        return try receive(waitingFor)
    }

    func expect(_ expected: SyncMessage, _ waitingFor: String) throws {
        let got = try receive(waitingFor)
        guard got == expected else {
            throw RuntimeError("unexpected message from container init while \(waitingFor)")
        }
    }
}
