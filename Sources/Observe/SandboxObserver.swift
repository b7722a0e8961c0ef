import Cgroups
import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Samples every sandbox under a runtime root, reading only what the runtime, the
/// cgroups, the ephemeral roots and the wardens' audit appends already hold: it
/// never signals, execs into or joins a sandbox, so watching costs the sandboxes
/// nothing. It keeps what a rate needs between two samples (the CPU readings) and the
/// audit logs' read offsets, so each tick reads only what was appended since.
public final class SandboxObserver {
    public let store: StateStore
    public typealias FactsResolver = (_ id: String, _ annotations: [String: String]?) -> SandboxFacts?
    let facts: FactsResolver
    let layout: CgroupLayout
    private var readings: [String: CPUPercent.Reading] = [:]
    private var counters: [String: AuditEgressCounter] = [:]
    private var resolved: [String: SandboxFacts] = [:]

    /// `facts` defaults to the annotations alone (SandboxFacts.fromAnnotations).
    public init(root: String, layout: CgroupLayout = .host(), facts: FactsResolver? = nil) {
        store = StateStore(root: root)
        self.layout = layout
        self.facts = facts ?? { id, annotations in SandboxFacts.fromAnnotations(annotations, id: id) }
    }

    /// Every sandbox under the root (containers whose annotations name a policy),
    /// oldest first.
    public func sample() -> [SandboxSample] {
        let now = Self.realTime(), clock = Self.monotonicNanoseconds()
        var samples: [SandboxSample] = []
        var seen: Set<String> = []
        for id in store.ids() {
            guard let record = try? store.load(id) else { continue }
            guard let facts = resolved[id] ?? facts(id, record.annotations) else { continue }
            resolved[id] = facts
            seen.insert(id)
            samples.append(sample(record, facts, now: now, clock: clock))
        }
        // Forget what belongs to sandboxes that are gone; a log no sandbox names any
        // more is closed (its next sandbox of the same name starts it again).
        readings = readings.filter { seen.contains($0.key) }
        resolved = resolved.filter { seen.contains($0.key) }
        let logs = Set(resolved.values.compactMap(\.auditLog))
        counters = counters.filter { logs.contains($0.key) }
        return samples.sorted { ($0.createdAt ?? 0, $0.id) < ($1.createdAt ?? 0, $1.id) }
    }

    func sample(_ record: ContainerRecord, _ facts: SandboxFacts, now: Double, clock: UInt64) -> SandboxSample {
        let state = Self.state(of: record, fifo: store.directory(of: record.id) + "/exec.fifo", layout: layout)
        let cgroups = CgroupManager(paths: record.cgroupPaths, layout: layout)
        let usage = record.cgroupPaths.isEmpty ? CgroupUsage() : cgroups.usage()
        let reading = CPUPercent.Reading(cpuNanoseconds: usage.cpuNanoseconds, clockNanoseconds: clock)
        let percent = state == .stopped ? nil : CPUPercent.between(readings[record.id], reading)
        readings[record.id] = reading

        var egress = EgressTally(), unavailable: String? = nil, pending: String? = nil, started: Double? = nil
        if let log = facts.auditLog {
            let counter = counters[log] ?? AuditEgressCounter(path: log)
            counters[log] = counter
            counter.update()
            egress = counter.tallies[record.id] ?? EgressTally()
            started = counter.started[record.id]
            if let problem = counter.unreadable { unavailable = "audit log \(log): \(problem)" }
            if counter.missing { pending = log }
        } else {
            unavailable = "no audit log known"
        }
        let created = RFC3339.seconds(record.created)
        var left: Double? = nil
        if state == .running || state == .paused {
            if let deadline = ServiceDeadline.read(bundle: record.bundle) {
                left = deadline - now
            } else if let timeout = facts.timeoutSeconds, let from = started ?? created {
                left = from + timeout - now
            }
        }
        return SandboxSample(id: record.id, policy: facts.policy, backend: record.backend.rawValue, state: state,
                             createdAt: created, secondsLeft: left, cpuPercent: percent, usage: usage,
                             hasCgroups: !record.cgroupPaths.isEmpty, egress: egress, egressUnavailable: unavailable,
                             auditLogPending: pending,
                             rootChanges: record.ephemeralRoot ? RootChanges.usage(root: store.root, id: record.id) : nil)
    }

    /// Derived as the runtime derives it, without asking the runtime: the init alive
    /// (same pid, same start time), before `start` while its exec FIFO is there,
    /// paused while its cgroup is frozen.
    static func state(of record: ContainerRecord, fifo: String, layout: CgroupLayout) -> SandboxSample.State {
        guard record.pid > 0, Processes.startTime(of: record.pid) == record.pidStartTime, !isZombie(record.pid) else { return .stopped }
        if Files.exists(fifo) { return .created }
        if !record.cgroupPaths.isEmpty, CgroupManager(paths: record.cgroupPaths, layout: layout).frozenCgroup() != nil { return .paused }
        return .running
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let bytes = try? Files.read("/proc/\(pid)/stat", limit: 4096),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")), close + 2 < bytes.count else { return true }
        return bytes[close + 2] == UInt8(ascii: "Z")
    }

    static func realTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
