import ContainerCore
import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The egress listening sockets: the proxies at 127.0.0.1 (`port`, `socksPort`) and,
/// for transparent egress, the capture and DNS sockets, all inside the sandbox's
/// network namespace and served by the warden from the host's.
///
/// How it gets there (the design choice): the runtime itself joins the init's network
/// namespace with setns(2), brings `lo` up, makes, binds and listens on the socket, and
/// joins its own namespace again; the warden inherits the descriptor across fork and
/// exec. This is safe because `create` is single-threaded here (setns changes only the
/// calling thread; no Dispatch, async or NIO in the runtime), and it
/// beats a forked helper with SCM_RIGHTS: no extra process, and a failure throws a
/// one-line error with its stage instead of an errno through a pipe. A socket keeps the
/// namespace it was made in for life, so the warden, which stays in the host namespace
/// (it must reach the world), serves clients in the sandbox's namespace only: nothing
/// in the host namespace can connect to it. Only `lo` exists in that namespace, so the
/// warden is the sandbox's only way out.
public enum EgressListener {
    /// The HTTP proxy's port inside every sandbox (the `HTTP_PROXY` the generator writes).
    public static let port: UInt16 = 3128
    /// The SOCKS5 proxy's port (`ALL_PROXY=socks5h://127.0.0.1:1080`).
    public static let socksPort: UInt16 = 1080
    /// Where the capture rule sends every other TCP connection (127.0.0.1 and ::1).
    public static let capturePort: UInt16 = 15001
    /// The sandbox's resolver (any address, port 53: the capture rule sends it here).
    public static let dnsPort: UInt16 = 53

    /// The listening sockets of one sandbox, all made in its network namespace. None is
    /// close-on-exec (the warden inherits them); the caller closes its copies after the
    /// spawn.
    public struct Sockets {
        public var proxy: FileDescriptor?
        public var socks: FileDescriptor?
        /// 127.0.0.1 and [::1] at the capture port: one per family, since the original
        /// destination is read per family (SO_ORIGINAL_DST, IP6T_SO_ORIGINAL_DST).
        public var capture: [FileDescriptor] = []
        /// UDP [::]:53, both families (IPv4 arrives as v4-mapped).
        public var dns: FileDescriptor?

        public init() {}

        public var all: [FileDescriptor] { [proxy, socks, dns].compactMap { $0 } + capture }
        public func close() { for fd in all { fd.close() } }
    }

    /// Opens the listeners `mode` needs in the network namespace of `initPid` and, for
    /// transparent egress, installs the capture (TransparentCapture) there. `joined`:
    /// the namespace the spec names by path, opened before the fork; used as is, since
    /// the init may not have entered it yet when this runs.
    public static func open(initPid: Int32, mode: EgressMode, joined: (fd: FileDescriptor, path: String)? = nil) throws -> Sockets {
        let own = try FileDescriptor.open("/proc/self/ns/net", O_RDONLY)
        let sandboxPath = joined?.path ?? "/proc/\(initPid)/ns/net"
        let sandbox = try joined?.fd ?? FileDescriptor.open(sandboxPath, O_RDONLY)
        guard joined != nil || Namespaces.identity(of: .network, pid: initPid) != (try? Files.readLink("/proc/self/ns/net")) else {
            throw RuntimeError("egress: network.allow is refused in the host's network namespace (the container shares it): the listeners and capture rules would govern every process of the host")
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
        _ = try syscall("egress: bring lo up in the sandbox") { sh_loopback_up() }
        var sockets = Sockets()
        do {
            if mode.servesProxies {
                sockets.proxy = try listen(.v4Loopback, port: port)
                sockets.socks = try listen(.v4Loopback, port: socksPort)
            }
            if mode.capturesConnections {
                sockets.capture = [try listen(.v4Loopback, port: capturePort), try listen(.v6Loopback, port: capturePort)]
                sockets.dns = try bound(.v6Any, port: dnsPort, type: SOCK_DGRAM)
                // Last: a connection captured before the warden serves waits in the backlog.
                try TransparentCapture.install(replacing: joined != nil)
            } else if joined != nil {
                // Explicit egress in an engine's namespace: its interfaces stay, so
                // everything that is not for the proxies (or the namespace) is refused.
                try TransparentCapture.confine()
            }
        } catch {
            sockets.close()
            throw error
        }
        return sockets
    }

    /// Where a listener is bound: native's loopback addresses and the resolver's
    /// wildcard; on gvisor (GvisorEgressLink) the warden's link address and, in the
    /// warden's own namespace, the wildcards of each family.
    package enum Address: Equatable {
        case v4Loopback, v6Loopback, v6Any
        /// One IPv4 address.
        case v4(String)
        /// 0.0.0.0.
        case v4Any
        /// [::], IPv6 only (IPv4 has its own listener).
        case v6Only
    }

    package static func listen(_ address: Address, port: UInt16) throws -> FileDescriptor {
        let fd = try bound(address, port: port, type: SOCK_STREAM)
        _ = try syscall("egress: listen on port \(port)") { Glibc.listen(fd.rawValue, 128) }
        return fd
    }

    package static func bound(_ address: Address, port: UInt16, type: __socket_type) throws -> FileDescriptor {
        let v4: UInt32?
        switch address {
        case .v4Loopback: v4 = 0x7f00_0001
        case .v4Any: v4 = 0
        case .v4(let text):
            var a = in_addr()
            guard inet_pton(AF_INET, text, &a) == 1 else { throw RuntimeError("egress: \(text) is not an IPv4 address") }
            v4 = UInt32(bigEndian: a.s_addr)
        case .v6Loopback, .v6Any, .v6Only: v4 = nil
        }
        let family = v4 != nil ? AF_INET : AF_INET6
        let fd = FileDescriptor(adopting: try syscall("egress: socket") { socket(family, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) })
        var on: Int32 = 1
        _ = setsockopt(fd.rawValue, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        func bindTo<A>(_ socketAddress: A, _ what: String) throws {
            var a = socketAddress
            _ = try syscall("egress: bind \(what) in the sandbox") {
                withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd.rawValue, $0, socklen_t(MemoryLayout<A>.size)) } }
            }
        }
        if let v4 {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = v4.bigEndian
            try bindTo(a, "\(Self.text(v4)):\(port)")
        } else {
            // The loopback and v6-only listeners take IPv6 only (IPv4 has its own, for
            // the original destination); the resolver takes both families on one socket.
            var v6only: Int32 = address == .v6Any ? 0 : 1
            _ = setsockopt(fd.rawValue, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &v6only, socklen_t(MemoryLayout<Int32>.size))
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            if address == .v6Loopback { a.sin6_addr.__in6_u.__u6_addr8.15 = 1 }
            try bindTo(a, address == .v6Loopback ? "[::1]:\(port)" : "[::]:\(port)")
        }
        return fd
    }

    /// Dotted text of a host-order IPv4 address (for error messages).
    static func text(_ v4: UInt32) -> String {
        "\(v4 >> 24).\((v4 >> 16) & 0xff).\((v4 >> 8) & 0xff).\(v4 & 0xff)"
    }
}
