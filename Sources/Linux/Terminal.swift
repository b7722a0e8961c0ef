import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Pseudo-terminals for containers whose process asks for a terminal.
public enum Terminal {
    /// Opens a new pty pair from the devpts mounted at `devPts` (the container's own
    /// instance, so the slave is visible inside): returns master, slave and slave path.
    public static func openPair(ptmx: String = "/dev/ptmx") throws -> (master: FileDescriptor, slave: FileDescriptor, path: String) {
        let master = try FileDescriptor.open(ptmx, O_RDWR | O_NOCTTY)
        try syscall("ioctl TIOCSPTLCK", ptmx) { sh_unlock_pt(master.rawValue) }
        let n = try syscall("ioctl TIOCGPTN", ptmx) { sh_pt_number(master.rawValue) }
        let path = "/dev/pts/\(n)"
        let slave = try FileDescriptor.open(path, O_RDWR | O_NOCTTY)
        return (master, slave, path)
    }

    public static func setSize(_ fd: FileDescriptor, rows: UInt16, columns: UInt16) throws {
        try syscall("ioctl TIOCSWINSZ") { sh_set_winsize(fd.rawValue, rows, columns) }
    }

    public static func size(of fd: Int32) -> (rows: UInt16, columns: UInt16)? {
        var r: UInt16 = 0, c: UInt16 = 0
        return sh_get_winsize(fd, &r, &c) == 0 ? (r, c) : nil
    }

    /// Makes `fd` the controlling terminal of this (new) session.
    public static func makeControlling(_ fd: Int32) throws {
        try syscall("ioctl TIOCSCTTY") { sh_set_controlling_tty(fd) }
    }

    /// Puts a terminal in raw mode and returns the settings to restore.
    public static func makeRaw(_ fd: Int32) -> termios? {
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        cfmakeraw(&raw)
        _ = tcsetattr(fd, TCSANOW, &raw)
        return saved
    }

    public static func restore(_ fd: Int32, _ settings: termios) {
        var s = settings
        _ = tcsetattr(fd, TCSANOW, &s)
    }
}
