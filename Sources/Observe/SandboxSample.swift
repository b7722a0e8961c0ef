import Cgroups

/// One sandbox at one moment, as `safehouse top` shows it and `/metrics` exports it.
public struct SandboxSample: Sendable {
    public enum State: String, Sendable, CaseIterable {
        case created, running, paused, stopped
    }

    public var id: String
    public var policy: String
    public var backend: String
    public var state: State
    /// Seconds since the epoch of its creation (the record's `created`).
    public var createdAt: Double?
    /// Seconds until its time limit; nil: no limit known, or stopped.
    public var secondsLeft: Double?
    /// CPU over the last interval (100 = one core); nil on the first reading.
    public var cpuPercent: Double?
    public var usage: CgroupUsage
    /// Whether the sandbox has cgroups to read (a gVisor sandbox made without a
    /// cgroupsPath has none of its own).
    public var hasCgroups: Bool
    public var egress: EgressTally
    /// Why the egress figures are missing: no audit log known, or it cannot be read.
    public var egressUnavailable: String?
    /// The audit log is not there yet (the counts are zero so far, not unknown).
    public var auditLogPending: String?
    public var rootChanges: RootChanges.Usage?

    /// Age in seconds at `now`.
    public func age(at now: Double) -> Double? { createdAt.map { max(0, now - $0) } }
}
