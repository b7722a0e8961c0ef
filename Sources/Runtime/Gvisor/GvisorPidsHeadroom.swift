import OCI

/// A policy's pids limit on gVisor: the number of the sandbox's own processes, as on
/// native, turned into the host limit runsc writes to the sandbox's pids cgroup.
///
/// runsc applies `linux.resources.pids` to the host cgroup, and that cgroup holds
/// gVisor's own host tasks as well as the container's: the sentry's threads and the
/// gofer from the start, and on the ptrace platform a stub process per container
/// process, with a stub thread for each sentry thread that has run it, plus the
/// sentry threads that trace them. A policy's `pids: 64` taken as is lets about a
/// dozen background `sleep`s start, and 16 does not let the sandbox start at all.
///
/// Measured on the ptrace platform (busybox `sh` starting N background `sleep`s, the
/// cgroup's pids.current read from the host, no limit): 30 host tasks with the shell
/// and one `sleep` (N=0 of the loop), 38 at N=1, 76 at 5, 116 at 10, 205 at 20: about
/// 9 per further process, and about 12 for runsc's own (30 less two processes at 9).
/// Under a limit the sentry makes fewer threads, so the count a sandbox reaches
/// varies run to run: with the host limit below, `pids: 64` let 71 to 84 `sleep`s
/// start in three runs. The base is rounded up to 32 so that a sandbox with one
/// process has room for runsc's start (the sentry makes threads before the container's
/// process exists).
///
/// A fork bomb still meets a bound: the host limit is a fixed multiple of the policy's
/// number, so `pids: 64` stops it at 608 host tasks.
public enum GvisorPidsHeadroom {
    /// runsc's own host tasks before the container's processes (sentry threads, gofer).
    public static let baseTasks: Int64 = 32
    /// Host tasks per container process on the ptrace platform (stub process and its
    /// threads, and the sentry threads tracing them).
    public static let tasksPerProcess: Int64 = 9
    /// The kernel's largest pids.max (PID_MAX_LIMIT): a larger value is refused.
    static let kernelMaximum: Int64 = 4_194_304

    /// The host limit for a sandbox whose policy allows `processes`.
    public static func hostLimit(forProcesses processes: Int64) -> Int64 {
        let (scaled, overflow) = processes.multipliedReportingOverflow(by: tasksPerProcess)
        if overflow || scaled > kernelMaximum - baseTasks { return kernelMaximum }
        return baseTasks + scaled
    }

    /// `spec` with its pids limit (if any: 0 or -1 means none) raised to the host
    /// limit; a spec without one is left as it is.
    public static func apply(_ spec: inout Spec) {
        guard let limit = spec.linux?.resources?.pids?.limit, limit > 0 else { return }
        spec.linux?.resources?.pids = LinuxPids(limit: hostLimit(forProcesses: limit))
    }
}
