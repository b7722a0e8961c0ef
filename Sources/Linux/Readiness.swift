#if canImport(Glibc)
import Glibc
#endif

/// Bounded waits: a monotonic clock, a descriptor that becomes readable, signals held
/// pending behind the caller's mask.
public enum MonotonicClock {
    /// Seconds since an arbitrary point (CLOCK_MONOTONIC): for deadlines, which a
    /// change of the wall clock must not move.
    public static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

extension FileDescriptor {
    /// poll(2) for input (or the peer's end) for at most `milliseconds`: true when it
    /// can be read, false when the time ran out or a signal interrupted the wait.
    public func waitUntilReadable(milliseconds: Int32) throws -> Bool {
        var fd = pollfd(fd: rawValue, events: Int16(POLLIN), revents: 0)
        let ready = poll(&fd, 1, milliseconds)
        if ready > 0 { return true }
        if ready < 0 && errno != EINTR { throw SystemError(call: "poll", errno: errno) }
        return false
    }
}

extension Signals {
    /// The first of `signals` pending behind the caller's signal mask (one not
    /// blocked would have been delivered already), if any.
    public static func firstPending(of signals: [Signal]) -> Signal? {
        var pending = sigset_t()
        guard sigpending(&pending) == 0 else { return nil }
        return signals.first { sigismember(&pending, $0.rawValue) == 1 }
    }
}

extension Signal {
    public static let interrupt = Signal(SIGINT)
    public static let hangup = Signal(SIGHUP)
}
