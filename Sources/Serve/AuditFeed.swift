import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// Reads the sandboxes' audit logs as they grow and publishes what the runtime and the
/// warden record there: egress decisions (the warden appends each as it is made), the
/// limits hit and the root's change set (written at delete), the init's exit, an
/// emergency stop. The sandboxes pay nothing for it: the records are written anyway;
/// the service reads the files on its own timer.
final class AuditFeed: @unchecked Sendable {
    /// Where a sandbox's log is when its spec names none (AuditChain's
    /// `AuditLog.defaultPath`; the service does not link the chain).
    static let defaultDirectory = "/var/log/safehouse"
    /// The annotation `agent spec` writes the policy's log path to.
    static let annotation = "io.safehouse.audit"
    /// The most read from one log in one poll.
    static let readLimit = 1 << 20

    private struct Tail {
        var path: String
        var offset: off_t = 0
        var partial = Data()
    }

    private let events: EventHub
    /// The limits already published live: a warden's report adds only what is past them.
    private let limits: LimitFeed
    private let lock = NIOLock()
    private var tails: [String: Tail] = [:]

    init(events: EventHub, limits: LimitFeed) {
        self.events = events
        self.limits = limits
    }

    /// The sandbox's log: the spec's annotation, else the default path.
    static func logPath(id: String, bundle: String) -> String {
        if let data = FileManager.default.contents(atPath: bundle + "/config.json"),
           let spec = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let annotations = spec["annotations"] as? [String: String],
           let path = annotations[annotation], !path.isEmpty {
            return path
        }
        return "\(defaultDirectory)/\(id).audit.jsonl"
    }

    /// Starts reading the sandbox's log: from its beginning for a new sandbox, from its
    /// end for one found again after a restart (its old records were published by the
    /// service that ran then).
    func track(_ id: String, path: String, fromEnd: Bool = false) {
        var tail = Tail(path: path)
        var st = stat()
        if fromEnd, stat(path, &st) == 0 { tail.offset = st.st_size }
        lock.withLock { tails[id] = tail }
    }

    func untrack(_ id: String) {
        lock.withLock { _ = tails.removeValue(forKey: id) }
    }

    /// Reads what was appended to every log (or to one) since the last poll.
    func poll(_ only: String? = nil) {
        let ids = lock.withLock { only.map { tails[$0] == nil ? [] : [$0] } ?? Array(tails.keys) }
        for id in ids { read(id) }
    }

    private func read(_ id: String) {
        // One reader per log at a time: the lock is held over the read (a pread of a
        // local file), so a delete's last poll and the timer's cannot interleave.
        lock.withLock {
            guard var tail = tails[id] else { return }
            let fd = open(tail.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_size > tail.offset else { return }
            let want = min(Int(st.st_size - tail.offset), Self.readLimit)
            var buffer = [UInt8](repeating: 0, count: want)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, tail.offset) }
            guard n > 0 else { return }
            tail.offset += off_t(n)
            tail.partial.append(contentsOf: buffer[0..<n])
            var lines: [Data] = []
            while let newline = tail.partial.firstIndex(of: 0x0A) {
                lines.append(tail.partial[tail.partial.startIndex..<newline])
                tail.partial.removeSubrange(tail.partial.startIndex...newline)
            }
            tails[id] = tail
            for line in lines { publish(id, line) }
        }
    }

    /// One record of the log as events.
    private func publish(_ id: String, _ line: Data) {
        guard let record = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
              record["id"] as? String == id, let kind = record["kind"] as? String else { return }
        let details = record["details"] as? [String: Any] ?? [:]
        switch kind {
        case "egress": events.publish(id, "egress", details)
        case "limit": events.publish(id, "limit", details)
        case "changes": events.publish(id, "files", details)
        case "exit": events.publish(id, "exit", details)
        case "stop": events.publish(id, "stopped", details)
        case "warden":
            // The warden's report, recorded at delete: the limits it counted.
            guard let report = details["report"] as? [String: Any] else { return }
            for limit in Self.limits(report: report, published: limits.published(id)) { events.publish(id, "limit", limit) }
        default: break
        }
    }

    /// The limits a warden report says were hit, past the counts `published` already.
    static func limits(report: [String: Any], published: (oomKills: UInt64, forksRefused: UInt64) = (0, 0)) -> [[String: Any]] {
        var out: [[String: Any]] = []
        if let n = (report["oomKills"] as? NSNumber)?.uint64Value, n > published.oomKills {
            out.append(["limit": "memory", "oomKills": n])
        }
        if let n = (report["pidsLimitHits"] as? NSNumber)?.uint64Value, n > published.forksRefused {
            out.append(["limit": "pids", "forksRefused": n])
        }
        if report["egressQuotaSpent"] as? Bool == true { out.append(["limit": "egress", "quotaSpent": true]) }
        if report["reason"] as? String == "timeout" { out.append(["limit": "timeout"]) }
        return out
    }
}
