#if canImport(Glibc)
import Glibc
#endif

/// Timestamps of the `run` path's phases on stderr when SAFEHOUSE_TRACE=1: the cheap
/// way to see where a container's start-up time goes without a profiler's overhead
/// (see hack/bench-run and the README's profiling recipe).
public enum PhaseTrace {
    public static let enabled: Bool = getenv("SAFEHOUSE_TRACE") != nil

    public static func mark(_ phase: StaticString) {
        guard enabled else { return }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let micros = Int(ts.tv_sec) * 1_000_000 + Int(ts.tv_nsec) / 1000
        let line = "trace \(getpid()) \(micros) \(phase)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
