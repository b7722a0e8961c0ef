import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A signal number with the names runc accepts (`KILL`, `SIGKILL`, `9`).
public struct Signal: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let kill = Signal(SIGKILL)
    public static let term = Signal(SIGTERM)

    public static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP,
        "ABRT": SIGABRT, "IOT": SIGABRT, "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL,
        "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2, "PIPE": SIGPIPE, "ALRM": SIGALRM,
        "TERM": SIGTERM, "STKFLT": SIGSTKFLT, "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP,
        "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU,
        "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO,
        "POLL": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
    ]

    /// Parses `KILL`, `SIGKILL`, `kill`, `9`, `RTMIN+3`; nil when it names no signal.
    public init?(parsing text: String) {
        if let n = Int32(text) {
            // 0 is allowed: it only probes that the process exists (kill(2)).
            guard n >= 0 && n < 65 else { return nil }
            self.rawValue = n
            return
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let n = Self.names[name] { self.rawValue = n; return }
        let rtmin: Int32 = 34, rtmax: Int32 = 64
        if name == "RTMIN" { self.rawValue = rtmin; return }
        if name == "RTMAX" { self.rawValue = rtmax; return }
        if name.hasPrefix("RTMIN+"), let k = Int32(name.dropFirst(6)), rtmin + k <= rtmax { self.rawValue = rtmin + k; return }
        if name.hasPrefix("RTMAX-"), let k = Int32(name.dropFirst(6)), rtmax - k >= rtmin { self.rawValue = rtmax - k; return }
        return nil
    }

    public var description: String {
        Self.names.first { $0.value == rawValue && $0.key != "IOT" && $0.key != "POLL" }.map { "SIG" + $0.key } ?? "signal \(rawValue)"
    }
}

public enum Signals {
    /// Blocks `signals` so they can be taken synchronously with `wait(for:)`.
    public static func block(_ signals: [Int32]) {
        _ = signals.withUnsafeBufferPointer { sh_block_signals($0.baseAddress, Int32($0.count)) }
    }

    /// Waits for one of `signals` (which must be blocked); returns it and the sender's pid.
    public static func wait(for signals: [Int32]) -> (signal: Int32, sender: Int32) {
        var pid: Int32 = 0
        let s = signals.withUnsafeBufferPointer { sh_wait_signal($0.baseAddress, Int32($0.count), &pid) }
        return (s, pid)
    }

    /// What a container process must start with: no blocked signals and every
    /// disposition at its default (ignored dispositions survive execve).
    public static func resetForExec() {
        sh_reset_signal_dispositions()
        _ = sh_unblock_all_signals()
    }
}

extension Signals {
    /// Writes to a pipe whose reader is gone fail with EPIPE instead of killing the
    /// process (runc, in Go, gets the same while it runs a container: its signal
    /// handler takes SIGPIPE). A no-op handler rather than SIG_IGN: execve resets a
    /// handled signal to its default, so the programs this process starts (the
    /// container's, the tools) die of SIGPIPE as usual, whereas an ignored one would
    /// stay ignored in them.
    public static func failWritesToClosedPipes() {
        signal(SIGPIPE) { _ in }
    }

    /// A descriptor that becomes readable when one of `signals` (blocked) arrives, so
    /// signals can be waited for in the same poll as terminal I/O.
    public static func descriptor(for signals: [Int32]) throws -> FileDescriptor {
        let fd = try syscall("signalfd") { signals.withUnsafeBufferPointer { sh_signalfd($0.baseAddress, Int32($0.count)) } }
        return FileDescriptor(adopting: fd)
    }

    /// Reads the next signal from a signalfd.
    public static func next(from fd: FileDescriptor) -> Int32 {
        sh_read_signalfd(fd.rawValue)
    }
}

extension Signals {
    /// Installs handlers that exit the process (128 + signal) for the signals whose
    /// default action terminates it. A namespace's PID 1 ignores such signals unless
    /// it handles them; `resetForExec` removes the handlers again.
    ///
    /// Every other disposition is reset to its default here, so that `start` has only
    /// these to reset (resetCommonForExec) on its way to the user's program: a full
    /// reset is 62 sigactions, ~18 us.
    public static func terminateOnCommonSignals() {
        let common = commonSignals
        common.withUnsafeBufferPointer { sh_reset_signal_dispositions_except($0.baseAddress, Int32($0.count)) }
        for s in common {
            signal(s) { sig in _exit(128 + sig) }
        }
        _ = sh_unblock_all_signals()
    }

    /// resetForExec after terminateOnCommonSignals, when nothing else changed a
    /// disposition since: the common signals' handlers go, and nothing is blocked.
    public static func resetCommonForExec() {
        commonSignals.withUnsafeBufferPointer { sh_reset_signals($0.baseAddress, Int32($0.count)) }
        _ = sh_unblock_all_signals()
    }

    static var commonSignals: [Int32] { [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE] }
}
