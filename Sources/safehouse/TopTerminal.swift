import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The terminal while `safehouse top` runs, and its way back. Plain termios and ANSI
/// escapes (no curses): input without echo or line buffering (Ctrl-C still sends
/// SIGINT), the alternate screen (the shell's screen comes back as it was), the
/// cursor hidden. `restore` puts all of it back; the command calls it on every way
/// out, and SIGINT, SIGTERM and SIGHUP arrive through a signalfd in the same poll as
/// the keys, so they end the loop through that same `restore` rather than killing the
/// process with the terminal left raw. SIGWINCH (a resize) comes the same way.
final class TopTerminal {
    enum Event: Equatable {
        case keys([TopKey])
        case resized
        case interrupted(Int32)
        case tick
    }

    private let signals: FileDescriptor
    private var saved: termios
    private var restored = false
    private var pending: [UInt8] = []

    init() throws {
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw CLIError("top: stdin and stdout must be a terminal (use --once to print the table as text)")
        }
        var settings = termios()
        guard tcgetattr(0, &settings) == 0 else {
            throw CLIError("top: cannot read the terminal's settings: \(String(cString: strerror(errno)))")
        }
        saved = settings
        // The signals that end the view, and a resize.
        let watched = [SIGINT, SIGTERM, SIGHUP, SIGWINCH]
        Signals.block(watched)
        signals = try Signals.descriptor(for: watched)
        var raw = settings
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        _ = tcsetattr(0, TCSANOW, &raw)
        write("\u{1B}[?1049h\u{1B}[?25l")
    }

    deinit { restore() }

    /// Leaves the alternate screen, shows the cursor, puts the settings back.
    func restore() {
        guard !restored else { return }
        restored = true
        write("\u{1B}[?25h\u{1B}[?1049l")
        _ = tcsetattr(0, TCSADRAIN, &saved)
    }

    /// Columns and rows (80x24 when the terminal does not say).
    var size: (columns: Int, rows: Int) {
        guard let s = Terminal.size(of: 1), s.columns > 0, s.rows > 0 else { return (80, 24) }
        return (Int(s.columns), Int(s.rows))
    }

    /// Waits up to `milliseconds` for keys or a signal.
    func next(within milliseconds: Int32) -> Event {
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: signals.rawValue, events: Int16(POLLIN), revents: 0)]
        let n = poll(&fds, 2, milliseconds)
        guard n > 0 else { return .tick }
        if fds[1].revents & Int16(POLLIN) != 0 {
            let s = Signals.next(from: signals)
            return s == SIGWINCH ? .resized : .interrupted(s)
        }
        if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            var buffer = [UInt8](repeating: 0, count: 256)
            let got = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            // The terminal went away (its window closed): as a hang-up.
            if got <= 0 { return .interrupted(SIGHUP) }
            let (keys, rest) = TopKey.decode(pending + buffer[..<got])
            pending = rest
            return .keys(keys)
        }
        return .tick
    }

    /// Draws a frame: from the top left, each line cut to the width and cleared to
    /// its end, then everything below cleared (no flicker from a full clear).
    func draw(_ lines: [(text: String, highlighted: Bool)]) {
        var frame = "\u{1B}[H"
        for (i, line) in lines.enumerated() {
            if i > 0 { frame += "\r\n" }
            frame += line.highlighted ? "\u{1B}[7m" + line.text + "\u{1B}[0m" : line.text
            frame += "\u{1B}[K"
        }
        frame += "\u{1B}[J"
        write(frame)
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            bytes = bytes.dropFirst(n)
        }
    }
}
