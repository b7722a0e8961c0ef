import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The container's terminal: a pty from the container's own devpts, whose master goes
/// to the engine over the console socket (SCM_RIGHTS, as runc sends it) and whose
/// slave becomes the process's stdio, controlling terminal and /dev/console.
enum Console {
    /// `bindConsole`: the init makes the pty its /dev/console; an exec'd process does not.
    static func setUp(socket: FileDescriptor?, size: Box?, bindConsole: Bool = true) throws {
        guard let socket else {
            throw RuntimeError("process.terminal is true but no --console-socket was given")
        }
        let pty = try Terminal.openPair(ptmx: "/dev/ptmx")
        if let size {
            try Terminal.setSize(pty.master, rows: UInt16(clamping: size.height), columns: UInt16(clamping: size.width))
        }
        if bindConsole {
            // /dev/console is the pty, as on a real system console.
            if !Files.exists("/dev/console") { try Files.touch("/dev/console", mode: 0o600) }
            try Mounts.mount(source: pty.path, target: "/dev/console", type: "bind", flags: .bind)
        }

        try socket.sendDescriptor(pty.master, payload: Array(pty.path.utf8))
        pty.master.close()
        socket.close()
        for fd: Int32 in 0...2 {
            try syscall("dup2", pty.path) { dup2(pty.slave.rawValue, fd) }
        }
        try Terminal.makeControlling(0)
    }
}
