import Foundation
import NIOConcurrencyHelpers
import Observe
import Prometheus

/// The service's `/metrics` (Prometheus text format): per sandbox under the service's
/// root the figures `safehouse top` shows (Observe reads them: state, cgroups, the
/// ephemeral root's tmpfs, the audit log's egress records; never the sandbox itself),
/// plus the service's own create latency and the limits its sandboxes hit.
///
/// Per-sandbox series carry the labels id, policy and backend and go when the sandbox
/// goes. Counters that the kernel or the audit log keep as totals (CPU time, egress)
/// are advanced by what changed since the last scrape, so they never go back.
final class ServiceMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let observer: SandboxObserver
    private let lock = NIOLock()
    private var series: [String: SandboxSeries] = [:]
    private var createLatency: [String: DurationHistogram] = [:]
    private let limitHits: [String: Counter]
    private let sandboxesByState: [String: Gauge]

    /// Buckets of the create latency, seconds: `agent spec` + `create` + `start` runs
    /// from a few tens of milliseconds to seconds on a loaded host.
    static let createBuckets: [Duration] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map { .milliseconds(Int64($0 * 1000)) }
    static let limits = ["memory", "pids", "timeout"]

    init(root: String) {
        observer = SandboxObserver(root: root)
        let registry = self.registry
        limitHits = Dictionary(uniqueKeysWithValues: Self.limits.map { limit in
            (limit, registry.makeCounter(descriptor: Self.name("limit_hits_total",
                "Limits the service's sandboxes hit: memory (OOM kills), pids (forks refused), timeout (deleted at the deadline)"),
                labels: [("limit", limit)]))
        })
        sandboxesByState = Dictionary(uniqueKeysWithValues: SandboxSample.State.allCases.map { state in
            (state.rawValue, registry.makeGauge(descriptor: Self.name("sandboxes", "Sandboxes under the root by state"),
                                                labels: [("state", state.rawValue)]))
        })
    }

    static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "safehouse", metricName: name, helpText: help)
    }

    /// A create that succeeded, and how long it took.
    func recordCreate(policy: String, seconds: TimeInterval) {
        lock.withLock {
            let histogram = createLatency[policy] ?? registry.makeDurationHistogram(
                descriptor: Self.name("sandbox_create_seconds", "Time from a create request to a running sandbox (agent spec, create, start)"),
                labels: [("policy", policy)], buckets: Self.createBuckets)
            createLatency[policy] = histogram
            histogram.recordNanoseconds(Int64(seconds * 1e9))
        }
    }

    /// A sandbox deleted at its deadline.
    func recordTimeout() {
        limitHits["timeout"]?.increment()
    }

    /// Samples every sandbox and returns the exposition. `deadlines`: the service's
    /// own deadlines by id (it keeps them, not the warden), for time left.
    func scrape(deadlines: [String: Date]) -> [UInt8] {
        lock.withLock {
            refresh(deadlines: deadlines)
            return registry.emitToBuffer()
        }
    }

    /// Takes a last reading (limit hits since the last scrape) before a sandbox goes.
    func observeBeforeDelete() {
        lock.withLock { refresh(deadlines: [:]) }
    }

    /// Under the lock.
    private func refresh(deadlines: [String: Date]) {
        let now = Date()
        let samples = observer.sample()
        var counts: [String: Int] = [:]
        for sample in samples {
            counts[sample.state.rawValue, default: 0] += 1
            let s = series[sample.id] ?? SandboxSeries(sample, registry: registry)
            series[sample.id] = s
            let hits = s.update(sample, secondsLeft: deadlines[sample.id].map { $0.timeIntervalSince(now) } ?? sample.secondsLeft,
                                now: now.timeIntervalSince1970)
            if hits.oomKills > 0 { limitHits["memory"]?.increment(by: Int64(hits.oomKills)) }
            if hits.forksRefused > 0 { limitHits["pids"]?.increment(by: Int64(hits.forksRefused)) }
        }
        for (state, gauge) in sandboxesByState { gauge.set(Double(counts[state] ?? 0)) }
        let present = Set(samples.map(\.id))
        for (id, gone) in series where !present.contains(id) {
            gone.unregister(from: registry)
            series[id] = nil
        }
    }
}

/// One sandbox's series, and the totals last exported (counters advance by the change).
final class SandboxSeries {
    let gauges: [String: Gauge]
    let counters: [String: Counter]
    private var last: [String: Double] = [:]

    static let gaugeHelp: [(String, String)] = [
        ("sandbox_memory_bytes", "Memory in use by the sandbox's cgroup"),
        ("sandbox_memory_limit_bytes", "The sandbox's memory limit (+Inf: none)"),
        ("sandbox_pids", "Tasks in the sandbox's cgroup"),
        ("sandbox_pids_limit", "The sandbox's tasks limit (+Inf: none)"),
        ("sandbox_root_changes_bytes", "Bytes the sandbox wrote into its ephemeral root (the upper layer's tmpfs in use)"),
        ("sandbox_age_seconds", "Seconds since the sandbox was created"),
        ("sandbox_time_left_seconds", "Seconds until the sandbox's deadline (+Inf: none known)"),
    ]
    static let counterHelp: [(String, [(String, String)], String)] = [
        ("sandbox_cpu_seconds_total", [], "CPU time used by the sandbox's cgroup"),
        ("sandbox_egress_decisions_total", [("decision", "allowed")], "Egress decisions in the audit log"),
        ("sandbox_egress_decisions_total", [("decision", "refused")], "Egress decisions in the audit log"),
        ("sandbox_egress_bytes_total", [("direction", "up")], "Bytes of ended egress connections, from the audit log"),
        ("sandbox_egress_bytes_total", [("direction", "down")], "Bytes of ended egress connections, from the audit log"),
        ("sandbox_oom_kills_total", [], "Processes of the sandbox the OOM killer killed"),
        ("sandbox_forks_refused_total", [], "Forks refused at the sandbox's tasks limit"),
    ]

    static func key(_ name: String, _ extra: [(String, String)]) -> String {
        ([name] + extra.map { "\($0.0)=\($0.1)" }).joined(separator: ",")
    }

    init(_ sample: SandboxSample, registry: PrometheusCollectorRegistry) {
        let labels = [("id", sample.id), ("policy", sample.policy), ("backend", sample.backend)]
        var gauges: [String: Gauge] = [:]
        for (name, help) in Self.gaugeHelp {
            gauges[name] = registry.makeGauge(descriptor: ServiceMetrics.name(name, help), labels: labels)
        }
        var counters: [String: Counter] = [:]
        for (name, extra, help) in Self.counterHelp {
            counters[Self.key(name, extra)] = registry.makeCounter(descriptor: ServiceMetrics.name(name, help), labels: labels + extra)
        }
        self.gauges = gauges
        self.counters = counters
    }

    /// Sets the gauges, advances the counters; returns the limit hits since last time.
    func update(_ s: SandboxSample, secondsLeft: Double?, now: Double) -> (oomKills: UInt64, forksRefused: UInt64) {
        let u = s.usage
        gauges["sandbox_memory_bytes"]?.set(Double(u.memoryBytes))
        gauges["sandbox_memory_limit_bytes"]?.set(u.memoryLimit.map { Double($0) } ?? .infinity)
        gauges["sandbox_pids"]?.set(Double(u.pids))
        gauges["sandbox_pids_limit"]?.set(u.pidsLimit.map { Double($0) } ?? .infinity)
        gauges["sandbox_root_changes_bytes"]?.set(Double(s.rootChanges?.bytes ?? 0))
        gauges["sandbox_age_seconds"]?.set(s.age(at: now) ?? 0)
        gauges["sandbox_time_left_seconds"]?.set(secondsLeft.map { max(0, $0) } ?? .infinity)
        advance("sandbox_cpu_seconds_total", Double(u.cpuNanoseconds) / 1e9)
        advance(Self.key("sandbox_egress_decisions_total", [("decision", "allowed")]), Double(s.egress.allowed))
        advance(Self.key("sandbox_egress_decisions_total", [("decision", "refused")]), Double(s.egress.refused))
        advance(Self.key("sandbox_egress_bytes_total", [("direction", "up")]), Double(s.egress.bytesUp))
        advance(Self.key("sandbox_egress_bytes_total", [("direction", "down")]), Double(s.egress.bytesDown))
        let oom = advance("sandbox_oom_kills_total", Double(u.oomKills))
        let forks = advance("sandbox_forks_refused_total", Double(u.forksRefused))
        return (UInt64(oom), UInt64(forks))
    }

    /// Moves a counter to `total` (never back); returns by how much it moved.
    @discardableResult
    private func advance(_ key: String, _ total: Double) -> Double {
        let step = max(0, total - (last[key] ?? 0))
        last[key] = max(total, last[key] ?? 0)
        if step > 0 { counters[key]?.increment(by: step) }
        return step
    }

    func unregister(from registry: PrometheusCollectorRegistry) {
        for g in gauges.values { registry.unregisterGauge(g) }
        for c in counters.values { registry.unregisterCounter(c) }
    }
}
