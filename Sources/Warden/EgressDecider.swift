import Egress
import NIOCore
import NIOPosix

/// The sandbox's decider, as the proxy uses it: asked about a destination no rule
/// covers, on threads of its own (two, started at the first question, so a sandbox
/// whose decider is never asked pays for none, and a slow decider never holds up the
/// event loop or the name lookups). Answers are remembered by host and port for the
/// sandbox's life; a question already out is not asked twice (later askers wait for
/// the same answer). A failure (timeout, crash, bad answer) is not remembered: the
/// next connection asks again. An answer about port 0 (a name lookup by the sandbox's
/// DNS) stands for the host on every port, so a program that resolved a name the
/// decider let through is not asked about again when it connects.
///
/// Used on the proxy's event loop only.
final class EgressDecider {
    let target: DeciderTarget
    let timeout: Double
    /// Answers remembered at most (about 100 bytes each).
    static let rememberedLimit = 10_000
    private var answers: [String: DeciderVerdict] = [:]
    private var waiting: [String: [EventLoopPromise<DeciderVerdict>]] = [:]
    private var pool: NIOThreadPool?

    init(target: DeciderTarget, timeout: Double) {
        self.target = target
        self.timeout = timeout
    }

    func decide(host: String, port: UInt16, on eventLoop: EventLoop) -> EventLoopFuture<DeciderVerdict> {
        let key = "\(host) \(port)"
        if let known = answers[key] ?? answers["\(host) 0"] { return eventLoop.makeSucceededFuture(known) }
        let promise = eventLoop.makePromise(of: DeciderVerdict.self)
        if waiting[key] != nil {
            waiting[key]?.append(promise)
            return promise.futureResult
        }
        waiting[key] = [promise]
        let target = self.target, timeout = self.timeout
        NIOThreadPool.started(&pool, threads: 2).runIfActive(eventLoop: eventLoop) { DeciderCall.ask(target, host: host, port: port, timeout: timeout) }
            .assumeIsolated().whenComplete { result in
                let verdict = (try? result.get()) ?? .failure("the decider could not be asked")
                // Bounded: an agent naming a million hosts must not grow the warden's
                // memory without end; past the cap answers are asked again.
                if verdict.answered, self.answers.count < Self.rememberedLimit { self.answers[key] = verdict }
                for p in self.waiting.removeValue(forKey: key) ?? [] { p.succeed(verdict) }
            }
        return promise.futureResult
    }
}
