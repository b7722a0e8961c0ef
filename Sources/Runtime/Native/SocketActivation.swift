import ContainerCore
#if canImport(Glibc)
import Glibc
#endif

/// systemd socket activation of the runtime itself, passed on as runc passes it.
///
/// When a unit runs `safehouse run` (or `create`) with sockets (`LISTEN_FDS=N`,
/// `LISTEN_PID` = our pid), descriptors 3 ..< 3+N are the listening sockets: they go
/// into the container at the same numbers, before any `--preserve-fds` ones, and the
/// process gets `LISTEN_FDS=N` and `LISTEN_PID=1` (it is pid 1 of its namespace, or at
/// least the program the sockets are meant for). A `LISTEN_PID` naming another process
/// means the variables were inherited, not meant for us: ignored (sd_listen_fds(3)).
/// `exec` does not take them, as runc.
struct SocketActivation: Equatable {
    /// How many descriptors, from 3, systemd passed.
    let count: Int

    /// The activation meant for this process, if any.
    static func fromEnvironment() -> SocketActivation? {
        parse(listenPid: getenv("LISTEN_PID").map { String(cString: $0) },
              listenFds: getenv("LISTEN_FDS").map { String(cString: $0) },
              ourPid: getpid())
    }

    static func parse(listenPid: String?, listenFds: String?, ourPid: Int32) -> SocketActivation? {
        guard let listenPid, let pid = Int32(listenPid), pid == ourPid,
              let listenFds, let count = Int(listenFds), count > 0 else { return nil }
        return SocketActivation(count: count)
    }

    /// The variables the container's process gets.
    var environment: [String] { ["LISTEN_FDS=\(count)", "LISTEN_PID=1"] }
}
