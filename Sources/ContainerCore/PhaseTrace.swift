#if canImport(Glibc)
import Glibc
#endif

/// Timestamps of the `run` path's phases on stderr when SAFEHOUSE_TRACE=1: the cheap
/// way to see where a container's start-up time goes without a profiler's overhead
/// (see hack/bench-run and the README's profiling recipe).
///
/// Debug builds also inject faults: with SAFEHOUSE_FAULT=PHASE the process that reaches
/// that phase kills itself with SIGKILL there, so tests can prove that a runtime dying
/// at any step leaves nothing that `delete --force` cannot remove (Tests/integration/
/// faults.bats). Release builds ignore the variable.
public enum PhaseTrace {
    public static let enabled: Bool = getenv("SAFEHOUSE_TRACE") != nil
    #if DEBUG
    static let fault: String? = getenv("SAFEHOUSE_FAULT").map { String(cString: $0) }
    #endif

    /// With `--debug`, each phase is also a `level=debug` record of the `--log` (runc
    /// writes its set-up steps there as debug records, and engines collect them). Set
    /// once, before any fork, by the command line; forked children inherit it.
    nonisolated(unsafe) public static var debugLog: RuntimeLog? {
        didSet { debugLogOwner = getpid() }
    }
    /// The process that set `debugLog`. A log on stderr is written by it alone: in the
    /// container's init, fd 2 is the container's own (or its terminal) by then.
    nonisolated(unsafe) private static var debugLogOwner: pid_t = 0

    public static func mark(_ phase: StaticString) {
        #if DEBUG
        if let fault, fault == phase.description { _ = kill(getpid(), SIGKILL) }
        #endif
        if let debugLog, debugLog.writesToFile || getpid() == debugLogOwner {
            debugLog.debug("\(phase) (pid \(getpid()))")
        }
        guard enabled else { return }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let micros = Int(ts.tv_sec) * 1_000_000 + Int(ts.tv_nsec) / 1000
        // The CPU this process has used so far (user+system, microseconds): where the
        // wall time between two marks exceeds the CPU between them, the process waited.
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 1_000_000
            + Int(usage.ru_utime.tv_usec) + Int(usage.ru_stime.tv_usec)
        let line = "trace \(getpid()) \(micros) \(phase) cpu=\(cpu)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
