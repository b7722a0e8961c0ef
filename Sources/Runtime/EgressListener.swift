import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The egress proxy's listening socket: 127.0.0.1:`port` inside the sandbox's network
/// namespace, served by the warden from the host's.
///
/// How it gets there (the design choice): the runtime itself joins the init's network
/// namespace with setns(2), brings `lo` up, makes, binds and listens on the socket, and
/// joins its own namespace again; the warden inherits the descriptor across fork and
/// exec. This is safe because `create` is single-threaded here (setns changes only the
/// calling thread, ../shared/FACTS.md; no Dispatch, async or NIO in the runtime), and it
/// beats a forked helper with SCM_RIGHTS: no extra process, and a failure throws a
/// one-line error with its stage instead of an errno through a pipe. A socket keeps the
/// namespace it was made in for life, so the warden, which stays in the host namespace
/// (it must reach the world), serves clients in the sandbox's namespace only: nothing
/// in the host namespace can connect to it. Only `lo` exists in that namespace, so the
/// proxy is the sandbox's only way out.
public enum EgressListener {
    /// The proxy's port inside every sandbox (the `HTTP_PROXY` the generator writes).
    public static let port: UInt16 = 3128

    /// Opens the listener in the network namespace of `initPid`. The descriptor is not
    /// close-on-exec (the warden inherits it); the caller closes its copy after the spawn.
    public static func open(initPid: Int32, port: UInt16 = EgressListener.port) throws -> FileDescriptor {
        let own = try FileDescriptor.open("/proc/self/ns/net", O_RDONLY)
        let sandboxPath = "/proc/\(initPid)/ns/net"
        let sandbox = try FileDescriptor.open(sandboxPath, O_RDONLY)
        guard Namespaces.identity(of: .network, pid: initPid) != (try? Files.readLink("/proc/self/ns/net")) else {
            throw RuntimeError("egress: the container shares the host's network namespace; the proxy needs a new one")
        }
        try Namespaces.join(sandbox, kind: .network, path: sandboxPath)
        // Back to our own namespace on every path: staying in the sandbox's would send
        // the rest of create (and its hooks) through the wrong network. Failing to
        // return is not an environment failure but a broken invariant: trap.
        defer {
            if sh_setns(own.rawValue, SH_CLONE_NEWNET) != 0 {
                preconditionFailure("egress: cannot return to the runtime's network namespace: errno \(errno)")
            }
        }
        do {
            _ = try syscall("egress: bring lo up in the sandbox") { sh_loopback_up() }
        }
        let fd = FileDescriptor(adopting: try syscall("egress: socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) })
        var on: Int32 = 1
        _ = setsockopt(fd.rawValue, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        _ = try syscall("egress: bind 127.0.0.1:\(port) in the sandbox") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd.rawValue, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        _ = try syscall("egress: listen") { listen(fd.rawValue, 128) }
        return fd
    }
}
