import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The exit status of the sandbox's init when the warden is not its parent (an engine
/// ran the sandbox detached: containerd's shim or conmon reaps the init, so neither
/// the warden nor `safehouse delete` ever sees its wait status).
///
/// How: taskstats (Documentation/accounting/taskstats.rst). The warden registers a
/// generic netlink socket as a listener for the exit records of every CPU before the
/// init can run the sandbox's command (the runtime waits for its ready pipe,
/// WardenConfiguration.readyFD), and keeps the record whose pid is the init's. Why
/// this and not the alternatives:
/// - The record is queued on our socket from `do_exit` (taskstats_exit) before
///   `exit_notify` makes the init a zombie, wakes its parent and makes our pidfd
///   readable: when the pidfd says the init has exited, its record is already here.
///   Nothing races with the parent's reaping.
/// - `/proc/PID/stat`'s exit_code of the zombie is gone the moment the shim reaps it
///   (a race we would lose to a fast reaper); waitid() works for children only;
///   ptrace (PTRACE_O_TRACEEXIT) would make the warden the sandbox's tracer (nothing
///   inside could be debugged, every signal would stop the init; runsc's ptrace
///   platform traces its own processes); the proc connector (cn_proc) sends its exit
///   event after exit_notify (the race again) and every fork and exec of the host too.
/// - Checked on this kernel (6.18): `ac_pid` and the record's TASKSTATS_TYPE_PID are
///   pids of the initial pid namespace even for a task in a child pid namespace (the
///   init is pid 1 in its own), so the init's pid as `create` saw it matches while the
///   warden runs in the host's pid namespace; a warden in a nested pid namespace
///   cannot match them and says so. `ac_exitcode` is the wait(2) status; a thread
///   group's exit sends one record per thread, each with the group's status (the
///   leader's is the one kept), and a TGID aggregate with no exit code (skipped).
/// - Costs: CAP_NET_ADMIN in the initial network namespace (the warden is root in the
///   host's); the kernel sends every exit on the host to every listener. Measured
///   with 5000 exits on the host (a shell loop of /bin/true): waking for each record
///   cost the warden 5091 wake-ups and 110 ms of CPU; draining at most every 100 ms
///   (Warden.run) cost 49 wake-ups and under 10 ms. A record takes about 1.3 KiB of the
///   socket's queue (8 MiB after SO_RCVBUFFORCE's doubling), charged only while
///   queued: some 6000 exits elsewhere within 100 ms before one could be dropped.
///   Records lost to an overflow are reported, never guessed at.
final class ExitStatusWatch {
    /// Seconds the socket is left unwatched after a drain (see Warden.run).
    static let drainInterval = 0.1

    let socket: FileDescriptor
    let pid: Int32
    private(set) var status: ExitStatus?
    private(set) var overflowed = false

    /// Registers for exit records. Throws a one-line reason when it cannot (the exit
    /// record then says the status is unknown, and why).
    init(pid: Int32) throws {
        if let nested = Self.nestedPidNamespace() { throw WardenError(nested) }
        let fd = sh_taskstats_open()
        guard fd >= 0 else { throw WardenError("taskstats: \(SystemError.message(for: errno))") }
        socket = FileDescriptor(adopting: fd)
        self.pid = pid
    }

    /// Reads whatever records are queued; true once the init's exit is among them.
    @discardableResult
    func drain() -> Bool {
        guard status == nil else { return true }
        var raw: UInt32 = 0
        var overflow: Int32 = 0
        let found = sh_taskstats_drain(socket.rawValue, UInt32(bitPattern: pid), &raw, &overflow)
        if overflow != 0 { overflowed = true }
        if found == 1 { status = ExitStatus(waitStatus: Int32(bitPattern: raw)) }
        return status != nil
    }

    /// Why the status is unknown, when it is.
    var missingReason: String {
        overflowed ? "taskstats: the exit record was lost (the socket's queue overflowed)"
            : "taskstats: no exit record for pid \(pid) (it exited before the warden registered)"
    }

    /// Nil in the initial pid namespace; otherwise why taskstats' pids cannot be matched.
    static func nestedPidNamespace() -> String? {
        guard let bytes = try? Files.read("/proc/self/status", limit: 1 << 16) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("NSpid:") {
            if line.split(whereSeparator: { $0 == " " || $0 == "\t" }).count > 2 {
                return "the warden is in a nested pid namespace: taskstats reports the host's pids"
            }
        }
        return nil
    }
}

extension ExitStatus {
    /// The `exit` record's details, as `run` writes them.
    var auditDetails: String {
        switch self {
        case .exited(let code): return "{\"code\":\(code)}"
        case .signaled(let signal): return "{\"code\":\(128 + signal),\"signal\":\(signal)}"
        }
    }
}
