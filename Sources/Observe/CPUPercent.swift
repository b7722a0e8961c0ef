/// CPU use over an interval, from two readings of a cgroup's CPU time: 100 is one
/// core busy for the whole interval (as top(1) counts), so a sandbox on two cores
/// can show up to 200.
public enum CPUPercent {
    /// One reading: the cgroup's CPU time and a monotonic clock, both nanoseconds.
    public struct Reading: Sendable, Equatable {
        public var cpuNanoseconds: UInt64
        public var clockNanoseconds: UInt64
        public init(cpuNanoseconds: UInt64, clockNanoseconds: UInt64) {
            self.cpuNanoseconds = cpuNanoseconds
            self.clockNanoseconds = clockNanoseconds
        }
    }

    /// nil when there is no interval to speak of (no earlier reading, no time passed)
    /// or the counter went back (a new cgroup under the same id).
    public static func between(_ earlier: Reading?, _ later: Reading) -> Double? {
        guard let earlier, later.clockNanoseconds > earlier.clockNanoseconds,
              later.cpuNanoseconds >= earlier.cpuNanoseconds else { return nil }
        let cpu = Double(later.cpuNanoseconds - earlier.cpuNanoseconds)
        let wall = Double(later.clockNanoseconds - earlier.clockNanoseconds)
        return cpu / wall * 100
    }
}
