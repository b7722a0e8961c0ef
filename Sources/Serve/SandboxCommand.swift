import Foundation
import NIOConcurrencyHelpers

/// A command of a sandbox as the API sees it: an id, its output kept as a numbered log
/// (so a client that went away can come back and read on from where it was), the
/// clients following it, its stdin and its exit.
///
/// The log keeps the last `retainedBytes` of output; older pieces are dropped and a
/// client reading from before them is told how many bytes it missed.
final class SandboxCommand: @unchecked Sendable {
    /// One thing that happened to the command, numbered from 1.
    struct Event {
        enum Kind {
            case output(CommandRun.Stream, String)
            case exit(CommandRun.Exit, killed: Bool)
        }
        var seq: UInt64
        var kind: Kind
    }

    /// A client's place on the command; `cancel` stops its deliveries.
    struct Subscription {
        let cancel: () -> Void
    }

    let id: String
    let sandboxId: String
    let argv: [String]
    let cwd: String?
    let background: Bool
    let startedAt = Date()

    static let retainedBytes = 1 << 20

    private let lock = NIOLock()
    private var log: [Event] = []
    private var logBytes = 0
    private var droppedBytes = 0
    private var nextSeq: UInt64 = 1
    private var decoders: [CommandRun.Stream: UTF8Chunks] = [.stdout: UTF8Chunks(), .stderr: UTF8Chunks()]
    private var subscribers: [UInt64: (Event) -> Void] = [:]
    private var nextSubscriber: UInt64 = 0
    private var exit: (CommandRun.Exit, Bool)?
    private var killed = false
    private var run: CommandRun?
    private var onFinish: ((SandboxCommand) -> Void)?

    init(id: String, sandboxId: String, plan: CommandPlan, executable: String, onFinish: @escaping (SandboxCommand) -> Void) {
        self.id = id
        self.sandboxId = sandboxId
        self.argv = plan.argv
        self.cwd = plan.cwd
        self.background = plan.background
        self.onFinish = onFinish
        run = CommandRun(
            executable: executable, arguments: plan.arguments, pidFile: plan.pidFile, input: plan.input, timeout: plan.timeout,
            stopInside: plan.stopInside,
            onOutput: { [weak self] stream, data in self?.output(stream, data) },
            onExit: { [weak self] exit in self?.finish(exit) })
    }

    func start() throws {
        guard let run = lock.withLock({ run }) else { return }
        try run.start()
    }

    var isRunning: Bool { lock.withLock { exit == nil } }

    /// Follows the command: `deliver` gets every event after `after` kept in the log
    /// (first, in order, on the caller's thread), then each new one as it comes (on the
    /// command's threads), the exit last. It must not block (it hands the event to an
    /// event loop). Returns the bytes of output dropped from the log before what was
    /// replayed (0 when nothing the caller asked for was dropped).
    func subscribe(after: UInt64, _ deliver: @escaping (Event) -> Void) -> (missed: Int, subscription: Subscription) {
        // The replay is handed over with the lock held, so no new event (delivered by
        // append, under the same lock) can come before it.
        let (missed, key) = lock.withLock { () -> (Int, UInt64?) in
            let missed = (log.first.map { $0.seq > after + 1 } ?? false) ? droppedBytes : 0
            for event in log where event.seq > after { deliver(event) }
            guard exit == nil else { return (missed, nil) }
            nextSubscriber += 1
            // A client may come back before the command has reached where it was.
            subscribers[nextSubscriber] = { event in if event.seq > after { deliver(event) } }
            return (missed, nextSubscriber)
        }
        let subscription = Subscription { [weak self] in
            guard let self, let key else { return }
            self.lock.withLock { _ = self.subscribers.removeValue(forKey: key) }
        }
        return (missed, subscription)
    }

    /// The events the log still has after `after`.
    func logged(after: UInt64) -> [Event] {
        lock.withLock { log.filter { $0.seq > after } }
    }

    /// Kills the command and what it started; false when it had exited already.
    @discardableResult
    func kill() -> Bool {
        let run: CommandRun? = lock.withLock {
            guard exit == nil else { return nil }
            killed = true
            return self.run
        }
        run?.stop()
        return run != nil
    }

    /// Writes to the command's stdin (and closes it with `close`); false when stdin is closed.
    func writeInput(_ data: Data, close: Bool) -> Bool {
        guard let run = lock.withLock({ exit == nil ? self.run : nil }), run.inputIsOpen else { return false }
        if !data.isEmpty { run.writeInput(data) }
        if close { run.closeInput() }
        return true
    }

    /// The API's view of the command.
    func json() -> [String: Any] {
        let (exit, run) = lock.withLock { (self.exit, self.run) }
        var d: [String: Any] = [
            "id": id, "cmd": argv, "background": background, "startedAt": Timestamp.string(startedAt),
            "state": exit == nil ? "running" : "exited",
        ]
        d["cwd"] = cwd ?? NSNull()
        d["pid"] = run?.sandboxPid().map { Int($0) } ?? NSNull()
        if let (e, killed) = exit {
            d["exitCode"] = Int(e.code)
            d["timedOut"] = e.timedOut
            d["killed"] = killed
        }
        return d
    }

    private func output(_ stream: CommandRun.Stream, _ data: Data) {
        lock.withLock {
            let text = decoders[stream]!.decode(data)
            if !text.isEmpty { append(.output(stream, text)) }
        }
    }

    private func finish(_ e: CommandRun.Exit) {
        let done: ((SandboxCommand) -> Void)? = lock.withLock {
            for stream in [CommandRun.Stream.stdout, .stderr] {
                let rest = decoders[stream]!.flush()
                if !rest.isEmpty { append(.output(stream, rest)) }
            }
            exit = (e, killed)
            append(.exit(e, killed: killed))
            subscribers = [:]
            defer { onFinish = nil }
            return onFinish
        }
        done?(self)
    }

    /// Numbers, keeps and hands on one event; called with the lock held.
    private func append(_ kind: Event.Kind) {
        let event = Event(seq: nextSeq, kind: kind)
        nextSeq += 1
        log.append(event)
        if case .output(_, let text) = kind { logBytes += text.utf8.count }
        var drop = 0
        while logBytes > Self.retainedBytes, drop < log.count - 1, case .output(_, let text) = log[drop].kind {
            logBytes -= text.utf8.count
            droppedBytes += text.utf8.count
            drop += 1
        }
        if drop > 0 { log.removeFirst(drop) }
        for deliver in subscribers.values { deliver(event) }
    }
}
