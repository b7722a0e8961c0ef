import Foundation
import NIOConcurrencyHelpers

/// The service's observation plane: what happens to sandboxes (lifecycle, limits,
/// egress decisions, file changes), numbered in one sequence, handed to the clients
/// following one sandbox or all of them, and kept per sandbox (the last `kept`) so a
/// client that follows a sandbox from its start sees it from `created` on.
final class EventHub: @unchecked Sendable {
    struct Event {
        var seq: UInt64
        var sandboxId: String
        var type: String
        var time: Date
        var details: [String: Any]

        var json: [String: Any] {
            ["seq": seq, "sandboxId": sandboxId, "type": type, "time": Timestamp.string(time), "details": details]
        }
    }

    /// What a follower is handed: an event, or the end of the sandbox's stream.
    enum Delivery {
        case event(Event)
        case end
    }

    static let kept = 256

    private let lock = NIOLock()
    /// Numbers start at the start time in microseconds, so they keep growing across a
    /// restart of the service and a client reconnecting with the last it saw misses
    /// nothing (as long as it is less than a million events a second).
    private var nextSeq = UInt64(Date().timeIntervalSince1970 * 1_000_000)
    private var history: [String: [Event]] = [:]
    /// Followers by key; `sandboxId` nil: every sandbox.
    private var followers: [UInt64: (sandboxId: String?, deliver: (Delivery) -> Void)] = [:]
    private var nextFollower: UInt64 = 0

    /// Publishes one event of a sandbox.
    func publish(_ sandboxId: String, _ type: String, _ details: [String: Any] = [:]) {
        lock.withLock {
            let event = Event(seq: nextSeq, sandboxId: sandboxId, type: type, time: Date(), details: details)
            nextSeq += 1
            var list = history[sandboxId] ?? []
            list.append(event)
            if list.count > Self.kept { list.removeFirst(list.count - Self.kept) }
            history[sandboxId] = list
            for follower in followers.values where follower.sandboxId == nil || follower.sandboxId == sandboxId {
                follower.deliver(.event(event))
            }
        }
    }

    /// The sandbox is gone: its followers get the end, its history goes.
    func end(_ sandboxId: String) {
        lock.withLock {
            history[sandboxId] = nil
            for (key, follower) in followers where follower.sandboxId == sandboxId {
                follower.deliver(.end)
                followers[key] = nil
            }
        }
    }

    /// The kept events of one sandbox, or of all, after `after`, in order.
    func kept(_ sandboxId: String?, after: UInt64?) -> [Event] {
        lock.withLock {
            let all = sandboxId.map { history[$0] ?? [] } ?? history.values.joined().sorted { $0.seq < $1.seq }
            return all.filter { $0.seq > (after ?? 0) }
        }
    }

    /// Follows one sandbox (its kept events after `after` first) or, with `sandboxId`
    /// nil, every sandbox from now on (and the kept events after `after`, when given,
    /// for a client that reconnects). `deliver` must not block. Returns the cancel.
    func follow(_ sandboxId: String?, after: UInt64?, _ deliver: @escaping (Delivery) -> Void) -> () -> Void {
        let key: UInt64 = lock.withLock {
            let replay: [Event]
            if let sandboxId {
                replay = (history[sandboxId] ?? []).filter { $0.seq > (after ?? 0) }
            } else if let after {
                replay = history.values.joined().filter { $0.seq > after }.sorted { $0.seq < $1.seq }
            } else {
                replay = []
            }
            for event in replay { deliver(.event(event)) }
            nextFollower += 1
            let floor = after ?? 0
            followers[nextFollower] = (sandboxId, { delivery in
                if case .event(let event) = delivery, event.seq <= floor { return }
                deliver(delivery)
            })
            return nextFollower
        }
        return { [weak self] in
            guard let self else { return }
            self.lock.withLock { _ = self.followers.removeValue(forKey: key) }
        }
    }
}
