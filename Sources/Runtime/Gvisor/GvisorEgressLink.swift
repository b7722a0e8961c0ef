import ContainerCore
import Sandbox
import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Egress for an agent sandbox on gvisor: gVisor's own netstack, wired by a veth pair
/// to a namespace of the warden's, where the same listeners and the same capture as on
/// native (EgressListener, TransparentCapture) wait.
///
/// ```
///  gVisor (netstack: lo, eth0 169.254.77.2)      host kernel, namespace of nothing but
///   sandbox netns: eth0, no address (runsc  ---- warden0 169.254.77.1: the proxies,
///   moved it into the netstack)                  capture, DNS; no route anywhere
/// ```
///
/// Why this and not runsc's host network in the sandbox's namespace (what native does,
/// and what this backend did first):
/// - runsc (20221219) cannot start its host network inside a user namespace: the
///   sandbox process joins the spec's user namespace without becoming uid 0 there (no
///   credentials are set for it, unlike the gofer), so its exec drops every capability
///   (it runs as the overflow uid 65534) and its first mount, making / a slave, fails
///   with EPERM. The default policy's user namespace would have to go. With the
///   netstack, runsc runs the sandbox as nobody in a user namespace of its own, and
///   the spec's user namespace (the container's ids, 0 -> 100000) works as without
///   egress.
/// - gVisor's netstack stays the wall: the sentry's socket calls never reach the host
///   kernel's network stack (with the host network, each was a host socket call), and
///   a sandbox given CAP_NET_ADMIN can change only gVisor's tables, never the capture
///   rules, which live in the warden's namespace.
/// - Busybox `wget` failed under the host network: this gVisor's hostinet answers
///   read(2) on a blocking socket with EAGAIN when no data has arrived yet (runsc
///   --strace: `write` of the request, then `read` = EAGAIN after 7 us, the socket's
///   flags O_RDWR, not O_NONBLOCK); `nc` and curl poll before they read, wget reads at
///   once. Nothing safehouse can set changes that; over the netstack read blocks.
/// The cost: the proxies are not at 127.0.0.1 inside (that is gVisor's own loopback),
/// so the proxy variables name the warden's address instead (GvisorSandboxBundle), and
/// the resolver is named in an /etc/resolv.conf bind-mounted over the image's.
///
/// A veth end in the sandbox's namespace: runsc's `--network=sandbox` copies the
/// interfaces, addresses and routes it finds there into the netstack at `runsc start`
/// (so the link is made between create and start; for a restore, which has no start,
/// before `runsc restore`: prepareForRestore), and removes the addresses from the
/// host's view. The warden's namespace is made here with unshare and is held only by
/// the listening sockets the warden inherits: when the warden ends, it goes, and with
/// it the veth pair; when the sandbox ends, its namespace goes and the pair with it.
/// Nothing is left to clean up.
///
/// Every sandbox gets the same addresses: each pair is in namespaces of its own.
public enum GvisorEgressLink {
    /// The warden's end (the proxies' address inside the sandbox).
    public static let wardenV4 = "169.254.77.1"
    public static let sandboxV4 = "169.254.77.2"
    public static let wardenV6 = "fd5a:fe00::1"
    public static let sandboxV6 = "fd5a:fe00::2"
    static let sandboxInterface = "eth0"
    static let wardenInterface = "warden0"

    /// The proxy variables' values inside gVisor: `url` with the loopback address the
    /// native sandbox uses replaced by the warden's, or nil if `url` names no proxy.
    public static func proxyURL(replacing url: String) -> String? {
        for port in [EgressListener.port, EgressListener.socksPort] {
            for scheme in ["http", "socks5h", "socks5"] where url == "\(scheme)://127.0.0.1:\(port)" {
                return "\(scheme)://\(wardenV4):\(port)"
            }
        }
        return nil
    }

    /// The sandbox's resolver, as /etc/resolv.conf says it (the warden's DNS socket).
    public static let resolvConf = "nameserver \(wardenV4)\n"

    /// Makes the warden's namespace and the link into the namespace of `sandboxPid`
    /// (runsc's sandbox process, before `runsc start`), and opens there the listeners
    /// `mode` needs. Called while single-threaded (create): setns and unshare change
    /// the calling thread only.
    public static func open(sandboxPid: Int32, mode: EgressMode) throws -> EgressListener.Sockets {
        try open(sandboxNamespace: "/proc/\(sandboxPid)/ns/net", mode: mode)
    }

    /// A restore's egress, made before runsc runs: `runsc restore` makes the sandbox
    /// and sets up its netstack in one step, from the interfaces it then finds in the
    /// sandbox's namespace. So the namespace is made here (held by `namespace` until
    /// runsc's sandbox has joined it, at `path`, which the spec's network namespace
    /// names) with the link and the listeners already in place.
    ///
    /// The restored sentry keeps nothing of its old netstack: gVisor's restore takes
    /// the stack runsc has just set up from this namespace in place of the saved one
    /// (its restorer: "the current network stack ... slap on top of the one that was
    /// restored"). The addresses are the fixed ones every sandbox has, so the link is
    /// what the checkpointed sandbox had, and its proxy variables still name the
    /// warden. Connections open at the checkpoint do not survive (their peer, the old
    /// warden, is gone).
    public struct Prepared {
        public let namespace: FileDescriptor
        public let sockets: EgressListener.Sockets
        /// The namespace by a path another process can open while this one lives.
        public var path: String { "/proc/\(getpid())/fd/\(namespace.rawValue)" }
    }

    public static func prepareForRestore(mode: EgressMode) throws -> Prepared {
        let namespace = try stage("egress: a network namespace for the restored sandbox") { try Namespaces.makeDetached(.network) }
        do {
            let sockets = try open(sandboxNamespace: "/proc/\(getpid())/fd/\(namespace.rawValue)", mode: mode)
            return Prepared(namespace: namespace, sockets: sockets)
        } catch {
            namespace.close()
            throw error
        }
    }

    /// `open`, into the sandbox's namespace at `sandboxPath` (`ip` takes the path).
    static func open(sandboxNamespace sandboxPath: String, mode: EgressMode) throws -> EgressListener.Sockets {
        let own = try FileDescriptor.open("/proc/thread-self/ns/net", O_RDONLY)
        defer { own.close() }
        let sandbox = try FileDescriptor.open(sandboxPath, O_RDONLY)
        defer { sandbox.close() }
        guard (try? Files.readLink(sandboxPath)) != (try? Files.readLink("/proc/self/ns/net")) else {
            throw RuntimeError("egress: the gvisor sandbox shares the host's network namespace; the link needs its own")
        }
        // Back to our own namespace on every path (as EgressListener).
        defer {
            if sh_setns(own.rawValue, SH_CLONE_NEWNET) != 0 {
                preconditionFailure("egress: cannot return to the runtime's network namespace: errno \(errno)")
            }
        }
        try stage("egress: a network namespace for the warden") { try Namespaces.unshare(SH_CLONE_NEWNET) }
        let warden = try FileDescriptor.open("/proc/thread-self/ns/net", O_RDONLY)
        defer { warden.close() }
        _ = try syscall("egress: bring lo up in the warden's namespace") { sh_loopback_up() }
        try TransparentCapture.run("ip", ["-batch", "-"], input: wardenSide(sandboxNamespace: sandboxPath))

        // The sandbox's end: its addresses and (for capture) a default route to the
        // warden, which runsc copies into the netstack at start. lo must be up, or runsc
        // skips it and gVisor has no loopback at all.
        try Namespaces.join(sandbox, kind: .network, path: sandboxPath)
        _ = try syscall("egress: bring lo up in the sandbox") { sh_loopback_up() }
        try TransparentCapture.run("ip", ["-batch", "-"], input: sandboxSide(capture: mode.capturesConnections))
        try Namespaces.join(warden, kind: .network, path: "the warden's namespace")

        var sockets = EgressListener.Sockets()
        do {
            if mode.servesProxies {
                sockets.proxy = try EgressListener.listen(.v4(wardenV4), port: EgressListener.port)
                sockets.socks = try EgressListener.listen(.v4(wardenV4), port: EgressListener.socksPort)
            }
            if mode.capturesConnections {
                // The namespace is the warden's alone: the capture listeners take any
                // local address (a redirect in prerouting rewrites the destination to
                // the incoming interface's own address).
                sockets.capture = [try EgressListener.listen(.v4Any, port: EgressListener.capturePort),
                                   try EgressListener.listen(.v6Only, port: EgressListener.capturePort)]
                sockets.dns = try EgressListener.bound(.v6Any, port: EgressListener.dnsPort, type: SOCK_DGRAM)
                try TransparentCapture.run("nft", ["-f", "-"], input: ruleset)
            }
        } catch {
            sockets.close()
            throw error
        }
        return sockets
    }

    static func wardenSide(sandboxNamespace: String) -> String {
        """
        link add \(wardenInterface) type veth peer name \(sandboxInterface) netns \(sandboxNamespace)
        addr add \(wardenV4)/30 dev \(wardenInterface)
        addr add \(wardenV6)/64 dev \(wardenInterface) nodad
        link set \(wardenInterface) up

        """
    }

    /// Without capture (explicit), no default route: a direct connection fails at once
    /// with ENETUNREACH inside gVisor, as it does on native.
    static func sandboxSide(capture: Bool) -> String {
        var text = """
            addr add \(sandboxV4)/30 dev \(sandboxInterface)
            addr add \(sandboxV6)/64 dev \(sandboxInterface) nodad
            link set \(sandboxInterface) up

            """
        if capture {
            text += """
                route add default via \(wardenV4) dev \(sandboxInterface)
                route add default via \(wardenV6) dev \(sandboxInterface)

                """
        }
        return text
    }

    /// The capture in the warden's namespace: TransparentCapture's rules, at the hook
    /// where the sandbox's packets arrive (prerouting) instead of where they leave
    /// (output). Anything not redirected is not for a local address and is dropped
    /// (the namespace forwards nothing; the forward chain says so).
    static var ruleset: String {
        """
        table inet safehouse {
            chain capture {
                type nat hook prerouting priority -100; policy accept;
                ip daddr \(wardenV4) return
                ip6 daddr \(wardenV6) return
                meta l4proto tcp redirect to :\(EgressListener.capturePort)
                udp dport 53 redirect to :\(EgressListener.dnsPort)
            }
            chain confine {
                type filter hook forward priority 0; policy drop;
                counter drop
            }
        }

        """
    }
}
