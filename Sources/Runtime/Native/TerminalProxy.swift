import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// For `run` in the foreground with `process.terminal` and no console socket: the
/// runtime keeps the pty master itself and copies between it and its own stdio
/// (runc does the same), with its terminal in raw mode while the container runs.
final class TerminalProxy {
    let master: FileDescriptor
    private var saved: termios?

    init(master: FileDescriptor) {
        self.master = master
        if isatty(0) != 0 {
            if let size = Terminal.size(of: 0) { try? Terminal.setSize(master, rows: size.rows, columns: size.columns) }
            saved = Terminal.makeRaw(0)
        }
    }

    deinit { restore() }

    func restore() {
        if let saved { Terminal.restore(0, saved) }
        saved = nil
    }

    /// Copies stdin -> master and master -> stdout until `handleSignal` says the
    /// container is gone; returns what it returned.
    func pump(signals: FileDescriptor, handleSignal: (Int32) -> ExitStatus?) -> ExitStatus {
        var stdinOpen = true
        var buf = [UInt8](repeating: 0, count: 32768)
        while true {
            var fds = [
                pollfd(fd: signals.rawValue, events: Int16(POLLIN), revents: 0),
                pollfd(fd: master.rawValue, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stdinOpen ? 0 : -1, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, 3, -1) < 0 { if errno == EINTR { continue }; break }
            if fds[1].revents != 0 {
                let n = read(master.rawValue, &buf, buf.count)
                if n > 0 { writeAll(1, buf, n) }
            }
            if fds[2].revents != 0 {
                let n = read(0, &buf, buf.count)
                if n > 0 { writeAll(master.rawValue, buf, n) } else { stdinOpen = false }
            }
            if fds[0].revents != 0 {
                let signal = Signals.next(from: signals)
                if signal == SIGWINCH, let size = Terminal.size(of: 0) {
                    try? Terminal.setSize(master, rows: size.rows, columns: size.columns)
                }
                if let status = handleSignal(signal) {
                    drain(&buf)
                    return status
                }
            }
        }
        return .exited(1)
    }

    /// Output the process wrote just before it exited.
    private func drain(_ buf: inout [UInt8]) {
        try? master.setNonBlocking(true)
        while true {
            let n = read(master.rawValue, &buf, buf.count)
            if n <= 0 { break }
            writeAll(1, buf, n)
        }
    }

    private func writeAll(_ fd: Int32, _ buf: [UInt8], _ count: Int) {
        var off = 0
        while off < count {
            let w = buf.withUnsafeBytes { write(fd, $0.baseAddress! + off, count - off) }
            if w <= 0 { if errno == EINTR { continue }; return }
            off += w
        }
    }
}
