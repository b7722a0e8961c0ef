import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The idle sandboxes made ahead of any request (`--warm POLICY:ROOTFS=N`), so that a
/// create asking for that policy and root filesystem skips the runtime's `run`, the
/// largest part of a create. Only the bookkeeping is here: which sandboxes wait, for
/// which target, and which spec each was made from; SandboxStore makes, hands out and
/// deletes them. A waiting sandbox is in no list a client sees and has no events; its
/// record says `warm`, so a restarted service adopts it or deletes it.
final class WarmPool: @unchecked Sendable {
    /// One `--warm` entry.
    struct Target: Equatable {
        var policy: String
        /// The root filesystem's real path (symlinks resolved), compared with a create's.
        var rootfs: String
        var count: Int

        static let maxCount = 64

        var key: String { Self.key(policy: policy, rootfs: rootfs) }

        static func key(policy: String, rootfs: String) -> String { policy + "\u{0}" + rootfs }

        /// `POLICY:ROOTFS=N`: a policy name, an absolute directory, a count.
        init(parsing text: String) throws {
            func failure(_ why: String) -> ServeOptions.Failure {
                ServeOptions.Failure(description: "--warm: \"\(text)\" \(why)")
            }
            guard let equals = text.lastIndex(of: "="), let colon = text[..<equals].firstIndex(of: ":") else {
                throw failure("is not POLICY:ROOTFS=N")
            }
            let policy = String(text[..<colon]), path = String(text[text.index(after: colon)..<equals])
            guard let count = Int(text[text.index(after: equals)...]), (1...Self.maxCount).contains(count) else {
                throw failure("has no count from 1 to \(Self.maxCount) after =")
            }
            guard Routes.isPolicyName(policy) else { throw failure("does not start with a policy name (a profile or a policy in the policy directory)") }
            guard path.hasPrefix("/") else { throw failure("has a root filesystem that is not an absolute path") }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue,
                  let real = Self.realPath(path) else {
                throw failure("has a root filesystem that is not a directory: \(path)")
            }
            self.policy = policy
            rootfs = real
            self.count = count
        }

        static func realPath(_ path: String) -> String? {
            guard let p = realpath(path, nil) else { return nil }
            defer { free(p) }
            return String(cString: p)
        }
    }

    /// A sandbox waiting, and the spec it was made from.
    struct Idle {
        var record: SandboxRecord
        var spec: Data
    }

    let targets: [Target]
    private let lock = NIOLock()
    private var idle: [String: [Idle]] = [:]
    private var stopped = false
    /// When a fill last failed, by target: the next try waits `retryAfter` (a broken
    /// image or policy must not cost a runtime call every second).
    private var failedAt: [String: Date] = [:]
    static let retryAfter: TimeInterval = 10

    init(targets: [Target]) {
        self.targets = targets
    }

    func target(policy: String, rootfs: String) -> Target? {
        let key = Target.key(policy: policy, rootfs: rootfs)
        return targets.first { $0.key == key }
    }

    /// Takes the oldest waiting sandbox of the target made from `spec` (each is handed
    /// out once: it leaves the pool here, under the lock). Those made from another spec
    /// (the policy was edited since) leave too and are returned as `stale`, to delete.
    func take(_ target: Target, spec: Data) -> (taken: SandboxRecord?, stale: [SandboxRecord]) {
        lock.withLock {
            var waiting = idle[target.key] ?? []
            let stale = waiting.filter { $0.spec != spec }.map(\.record)
            waiting.removeAll { $0.spec != spec }
            let taken = waiting.isEmpty ? nil : waiting.removeFirst().record
            idle[target.key] = waiting
            return (taken, stale)
        }
    }

    /// Adds a sandbox made (or adopted) for the target; false when the pool has stopped
    /// or is full, and the caller deletes it.
    func add(_ target: Target, _ entry: Idle) -> Bool {
        lock.withLock {
            guard !stopped, (idle[target.key]?.count ?? 0) < target.count else { return false }
            idle[target.key, default: []].append(entry)
            failedAt[target.key] = nil
            return true
        }
    }

    /// The targets short of sandboxes (and not in their wait after a failure), each with
    /// how many it lacks.
    func shortfall(now: Date = Date()) -> [(Target, Int)] {
        lock.withLock {
            guard !stopped else { return [] }
            return targets.compactMap { t in
                if let failed = failedAt[t.key], now.timeIntervalSince(failed) < Self.retryAfter { return nil }
                let missing = t.count - (idle[t.key]?.count ?? 0)
                return missing > 0 ? (t, missing) : nil
            }
        }
    }

    func failed(_ target: Target) {
        lock.withLock { failedAt[target.key] = Date() }
    }

    var isStopped: Bool { lock.withLock { stopped } }

    /// Stops the pool and empties it: the sandboxes returned are the caller's to delete.
    func stop() -> [SandboxRecord] {
        lock.withLock {
            stopped = true
            let all = idle.values.flatMap { $0.map(\.record) }
            idle = [:]
            return all
        }
    }

    /// How many wait, over all targets.
    var count: Int { lock.withLock { idle.values.reduce(0) { $0 + $1.count } } }
}
