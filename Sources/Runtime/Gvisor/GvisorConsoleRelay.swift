import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Sizes the terminal runsc makes before the engine gets it.
///
/// runc sets `process.consoleSize` on the pty master before it sends it to
/// `--console-socket`; runsc (20221219) sends it unsized (0x0). So for a terminal with
/// a size, runsc is given a socket of safehouse's own (`<state>/console.sock`); the
/// master it sends is sized, then passed on to the engine's socket, which sees no
/// difference but the size.
struct GvisorConsoleRelay {
    let listener: FileDescriptor
    let path: String
    let target: String
    let rows: UInt16
    let columns: UInt16

    /// A relay when the process has a terminal with a size and the caller a socket.
    static func make(process: OCI.Process, consoleSocket: String?, stateDirectory: String) throws -> GvisorConsoleRelay? {
        guard process.terminal ?? false, let target = consoleSocket, let size = process.consoleSize else { return nil }
        let path = stateDirectory + "/console.sock"
        let listener = try Sockets.listen(unixPath: path)
        return GvisorConsoleRelay(listener: listener, path: path, target: target,
                                  rows: UInt16(clamping: size.height), columns: UInt16(clamping: size.width))
    }

    /// Waits for runsc (our child `pid`) to send the master, then sizes and passes it
    /// on. Returns runsc's exit status if it ended without sending one (then nothing
    /// was passed on; its error is the caller's to report).
    func relay(from pid: Int32) throws -> ExitStatus? {
        defer { listener.close(); unlink(path) }
        while true {
            var p = pollfd(fd: listener.rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 50)
            if ready > 0 { break }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                return ExitStatus(waitStatus: status)
            }
        }
        let connection = try listener.accept()
        defer { connection.close() }
        let master = try connection.receiveDescriptor()
        defer { master.close() }
        try stage("console size \(rows)x\(columns)") { try Terminal.setSize(master, rows: rows, columns: columns) }
        let engine = try stage("--console-socket \(target)") { try Sockets.connect(unixPath: target) }
        defer { engine.close() }
        try engine.sendDescriptor(master, payload: Array("/dev/console".utf8))
        return nil
    }
}
