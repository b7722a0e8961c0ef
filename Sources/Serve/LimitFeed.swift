import Foundation
import NIOConcurrencyHelpers

/// Limits a live sandbox hits, as they are hit: the kernel's own counters of its
/// cgroups that the warden reads for its report at the end (OOM kills in
/// `memory.events` or v1's `memory.oom_control`, forks refused in `pids.events`),
/// read by the service on its timer. The sandbox pays nothing: the kernel keeps the
/// counts anyway.
final class LimitFeed: @unchecked Sendable {
    /// One sandbox's counter files and the counts already published.
    struct Watch {
        var memoryEvents: String?
        var pidsEvents: String?
        var oomKills: UInt64 = 0
        var forksRefused: UInt64 = 0
    }

    private let events: EventHub
    private let lock = NIOLock()
    private var watches: [String: Watch] = [:]

    init(events: EventHub) { self.events = events }

    /// Starts watching the cgroups of the sandbox whose init is `pid`; what was counted
    /// before (a sandbox found again after a restart) is not published again.
    func track(_ id: String, pid: Int32) {
        var watch = Self.files(pid: pid)
        watch.oomKills = watch.memoryEvents.map { Self.counter($0, "oom_kill") } ?? 0
        watch.forksRefused = watch.pidsEvents.map { Self.counter($0, "max") } ?? 0
        lock.withLock { watches[id] = watch }
    }

    func untrack(_ id: String) {
        lock.withLock { _ = watches.removeValue(forKey: id) }
    }

    /// The counts published so far (a warden's report at the end adds only what is past them).
    func published(_ id: String) -> (oomKills: UInt64, forksRefused: UInt64) {
        lock.withLock { watches[id].map { ($0.oomKills, $0.forksRefused) } ?? (0, 0) }
    }

    /// Reads every watched sandbox's counters and publishes a `limit` event for each
    /// that grew.
    func poll() {
        lock.withLock {
            for (id, var watch) in watches {
                if let file = watch.memoryEvents {
                    let n = Self.counter(file, "oom_kill")
                    if n > watch.oomKills {
                        events.publish(id, "limit", ["limit": "memory", "oomKills": n])
                        watch.oomKills = n
                    }
                }
                if let file = watch.pidsEvents {
                    let n = Self.counter(file, "max")
                    if n > watch.forksRefused {
                        events.publish(id, "limit", ["limit": "pids", "forksRefused": n])
                        watch.forksRefused = n
                    }
                }
                watches[id] = watch
            }
        }
    }

    /// The counter files of the init's cgroups, from `/proc/PID/cgroup` (v1 lines name
    /// their controllers; the v2 line, `0::PATH`, serves any controller it has).
    static func files(pid: Int32) -> Watch {
        var watch = Watch()
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return watch }
        let fm = FileManager.default
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = parts[1].split(separator: ",").map(String.init)
            let path = String(parts[2])
            if controllers.isEmpty {
                for base in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
                    let memory = base + path + "/memory.events", pids = base + path + "/pids.events"
                    if watch.memoryEvents == nil, fm.fileExists(atPath: memory) { watch.memoryEvents = memory }
                    if watch.pidsEvents == nil, fm.fileExists(atPath: pids) { watch.pidsEvents = pids }
                }
            } else if controllers.contains("memory") {
                let file = "/sys/fs/cgroup/\(parts[1])\(path)/memory.oom_control"
                if fm.fileExists(atPath: file) { watch.memoryEvents = file }
            } else if controllers.contains("pids") {
                let file = "/sys/fs/cgroup/\(parts[1])\(path)/pids.events"
                if fm.fileExists(atPath: file) { watch.pidsEvents = file }
            }
        }
        return watch
    }

    /// The value of `key` in a flat-keyed cgroup file ("key value" lines); 0 when absent.
    static func counter(_ file: String, _ key: String) -> UInt64 {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == key { return UInt64(fields[1]) ?? 0 }
        }
        return 0
    }
}
