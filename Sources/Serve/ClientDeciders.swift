import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// Clients as deciders: a sandbox created with `"decider": "client"` has, as its
/// policy's network.decider, `unix:<state dir>/<id>/decider.sock`, a socket this
/// service listens on (root's directory, mode 0600: only root on the host reaches it,
/// never the sandbox). The warden asks there, as it asks any HTTP decider, about a
/// destination no rule covers; the question becomes an `egress_decision_needed` event on
/// the sandbox's stream, and the first client to answer it (`POST
/// /v1/sandboxes/{id}/network/decisions/{rid}`) decides. No answer by the warden's
/// deadline is a refusal: the warden stops waiting and the question expires
/// (`egress_decision_expired`). The warden keeps its cache: a host and port answered
/// once are not asked again.
///
/// One event loop thread, started with the first such sandbox.
final class ClientDeciders: @unchecked Sendable {
    static let socketName = "decider.sock"
    /// A person answers: the default deadline is longer than a program decider's.
    static let defaultTimeout: Double = 30
    static let maximumTimeout: Double = 300
    /// Questions remembered after their end, so a late answer is a 409, not a 404.
    static let rememberedEnds = 1024

    struct Question {
        var requestId: String
        var sandboxId: String
        var host: String
        var port: Int
        var deadline: Date

        var json: [String: Any] {
            ["requestId": requestId, "host": host, "port": port, "deadline": Timestamp.string(deadline)]
        }
    }

    struct Answer {
        var requestId: String
        var allow: Bool
        var reason: String

        var json: [String: Any] { ["requestId": requestId, "allow": allow, "reason": reason] }
    }

    private let events: EventHub
    private let lock = NIOLock()
    private var group: MultiThreadedEventLoopGroup?
    private var listeners: [String: (channel: Channel, timeout: Double)] = [:]
    private var waiting: [String: (question: Question, reply: (Bool, String) -> Void)] = [:]
    private var ended: [String: String] = [:]
    private var endOrder: [String] = []

    init(events: EventHub) { self.events = events }

    /// The policy's network.decider for a sandbox whose record directory is `directory`.
    static func target(directory: String) -> String {
        let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        return "unix:" + absolute + "/" + socketName
    }

    /// Listens for the warden of sandbox `id` at `<directory>/decider.sock`.
    func listen(_ id: String, directory: String, timeout: Double) throws {
        let path = String(Self.target(directory: directory).dropFirst("unix:".count))
        let loops: MultiThreadedEventLoopGroup = lock.withLock {
            if let group { return group }
            let made = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            group = made
            return made
        }
        let channel: Channel
        do {
            channel = try EgressControl.withShortPath(path) { short in
                // Mode 0600 from the start: the umask covers the window between bind and chmod.
                let old = umask(0o177)
                defer { umask(old) }
                return try ServerBootstrap(group: loops)
                    .childChannelInitializer { channel in
                        channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                            channel.pipeline.addHandler(DeciderQuestionHandler(deciders: self, sandboxId: id))
                        }
                    }
                    .bind(unixDomainSocketPath: short, cleanupExistingSocketFile: true)
                    .wait()
            }
        } catch {
            throw APIError.internalError("decider: cannot listen at \(path): \(error)")
        }
        chmod(path, 0o600)
        lock.withLock { listeners[id] = (channel, timeout) }
    }

    /// Stops listening for sandbox `id`; its open questions expire.
    func close(_ id: String) {
        let channel = lock.withLock { listeners.removeValue(forKey: id)?.channel }
        channel?.close(promise: nil)
        let open = lock.withLock { waiting.values.filter { $0.question.sandboxId == id }.map(\.question.requestId) }
        for rid in open { expire(rid, because: "the sandbox is gone") }
    }

    /// A question from the warden: published, and `reply` called once a client answers.
    /// Returns the request's id (nil when the sandbox is no longer listened for).
    func ask(_ sandboxId: String, host: String, port: Int, reply: @escaping (Bool, String) -> Void) -> String? {
        guard let timeout = lock.withLock({ listeners[sandboxId]?.timeout }) else { return nil }
        let question = Question(requestId: "egr-" + SandboxStore.randomHex(8), sandboxId: sandboxId, host: host, port: port,
                                deadline: Date().addingTimeInterval(timeout))
        lock.withLock { waiting[question.requestId] = (question, reply) }
        events.publish(sandboxId, "egress_decision_needed", question.json)
        return question.requestId
    }

    /// The warden stopped waiting (its deadline passed, or it went): the question ends
    /// unanswered, a refusal.
    func expire(_ rid: String, because why: String) {
        guard let entry = lock.withLock({ () -> (question: Question, reply: (Bool, String) -> Void)? in
            guard let entry = waiting.removeValue(forKey: rid) else { return nil }
            remember(rid, "expired")
            return entry
        }) else { return }
        var details = entry.question.json
        details["reason"] = why
        events.publish(entry.question.sandboxId, "egress_decision_expired", details)
    }

    /// The questions of sandbox `id` still waiting for an answer, oldest first.
    func pending(_ id: String) -> [Question] {
        lock.withLock { waiting.values.map(\.question).filter { $0.sandboxId == id } }.sorted { $0.deadline < $1.deadline }
    }

    /// A client's answer to question `rid` of sandbox `id`; `by` is who gave it.
    func answer(_ id: String, _ rid: String, allow: Bool, reason: String, by: String) throws -> Answer {
        let entry: (question: Question, reply: (Bool, String) -> Void) = try lock.withLock {
            guard let entry = waiting[rid], entry.question.sandboxId == id else {
                if ended[rid] != nil, !rid.isEmpty {
                    throw APIError.conflict("decision request \(rid) was already \(ended[rid] ?? "ended")")
                }
                throw APIError.notFound("no decision request \"\(rid)\" waits in sandbox \(id)")
            }
            waiting[rid] = nil
            remember(rid, "answered")
            return entry
        }
        // The warden records the reason with the decision: who answered goes with it.
        entry.reply(allow, reason.isEmpty ? "answered by \(by)" : "\(reason) (answered by \(by))")
        var details = entry.question.json
        details["allow"] = allow
        details["reason"] = reason
        details["by"] = by
        events.publish(id, "egress_decision_answered", details)
        return Answer(requestId: rid, allow: allow, reason: reason)
    }

    /// Called under the lock.
    private func remember(_ rid: String, _ outcome: String) {
        ended[rid] = outcome
        endOrder.append(rid)
        if endOrder.count > Self.rememberedEnds { ended[endOrder.removeFirst()] = nil }
    }
}
