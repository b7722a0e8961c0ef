import Foundation
import NIOConcurrencyHelpers

/// The sandbox specs `agent spec` made lately, by policy and image. A spec depends on
/// nothing else (the sandbox's env is given to each command, not to the idle init; the
/// host id range is the same for every sandbox while /etc/subuid and /etc/subgid stay
/// as they are), and its process is about 15 ms of the 100 or so a create costs here.
/// An entry is used for `lifetime` seconds after it was made, so an edited policy file
/// applies to the sandboxes created from then on, that long later at most.
final class SpecCache: @unchecked Sendable {
    static let lifetime: TimeInterval = 10

    private struct Entry { var spec: Data; var made: Date }
    private let lock = NIOLock()
    private var entries: [String: Entry] = [:]

    /// The cached spec, or `make()`'s (kept unless it throws).
    func spec(policy: String, rootfs: String, now: Date = Date(), make: () throws -> Data) rethrows -> Data {
        let key = policy + "\u{0}" + rootfs
        if let entry = lock.withLock({ entries[key] }), now.timeIntervalSince(entry.made) < Self.lifetime {
            return entry.spec
        }
        let spec = try make()
        lock.withLock {
            // Stale entries go as new ones come: the cache holds what was used lately.
            entries = entries.filter { now.timeIntervalSince($0.value.made) < Self.lifetime }
            entries[key] = Entry(spec: spec, made: now)
        }
        return spec
    }
}
