import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Transparent egress: every TCP connection a sandbox makes, and every DNS query,
/// reaches the warden whether or not the program knows of a proxy.
///
/// The mechanism, and why: a default route through `lo` plus an nftables `redirect`
/// in the sandbox's own network namespace (nat hook `output`), which rewrites each new
/// connection's destination to the capture listener (127.0.0.1 or [::1]:15001) and
/// keeps the original in conntrack, where the warden reads it back with
/// SO_ORIGINAL_DST. Chosen over
/// - TPROXY: it acts in prerouting only, so locally made connections would need
///   policy routing to loop them back through `lo` first: more rules, same result;
/// - a tun device with a userspace TCP/IP stack: a second TCP implementation in the
///   warden (memory it is budgeted not to spend, and bugs the kernel does not have),
///   for nothing the kernel's own connection tracking does not give.
/// This kernel has no `dummy` driver, hence the route through `lo`. It fails closed:
/// a packet the redirect does not rewrite (the rules flushed by a sandbox given
/// CAP_NET_ADMIN, ICMP, UDP to any port but 53) leaves through `lo`, comes back in as
/// a packet for an address that is not local, and is dropped (no forwarding, a
/// loopback source); the `confine` chain drops it earlier, counted. The namespace has
/// no other interface, so nothing can leave another way.
///
/// Installed by the runtime while it stands in the sandbox's network namespace
/// (EgressListener), with Debian's `ip` (iproute2) and `nft` (nftables): one process
/// each, only for sandboxes whose policy asks for transparent egress.
public enum TransparentCapture {
    /// Routes that give every destination a way "out", so connect(2) reaches the
    /// output hook instead of failing with ENETUNREACH. The source is loopback, so the
    /// warden's answers stay on `lo`. `replace`, not `add`: a namespace the runtime did
    /// not make (a pod's) may have a default route already, or this one from a warden
    /// that served it before and died (SharedNetworkEgress); the confine chain drops
    /// whatever would leave by another interface anyway.
    static let routes = """
        route replace 0.0.0.0/0 dev lo src 127.0.0.1
        route replace ::/0 dev lo src ::1

        """

    /// Declares and deletes the table before it is made again, so installing it in a
    /// namespace whose previous warden died replaces it instead of adding the rules
    /// twice. Only for a namespace the runtime joined: a deletion in the batch costs
    /// about 15 ms of the kernel's (measured: 4 ms for `nft -f` of the ruleset in a new
    /// namespace, 19 ms with this prelude), and a namespace the runtime just made holds
    /// no table.
    static let replacingPrelude = """
        table inet safehouse
        delete table inet safehouse

        """

    /// `fib daddr type local`: the namespace's own addresses besides loopback (a pod's
    /// eth0 address). Traffic to them never leaves the namespace, and the warden's
    /// answers to a client whose source is such an address (a pod's connection to
    /// another host leaves from it, then is redirected) go there.
    static var ruleset: String {
        """
        table inet safehouse {
            chain capture {
                type nat hook output priority -100; policy accept;
                ip daddr 127.0.0.0/8 return
                ip6 daddr ::1 return
                fib daddr type local return
                meta l4proto tcp redirect to :\(EgressListener.capturePort)
                udp dport 53 redirect to :\(EgressListener.dnsPort)
            }
            chain confine {
                type filter hook output priority 0; policy accept;
                ip daddr 127.0.0.0/8 accept
                ip6 daddr ::1 accept
                fib daddr type local accept
                counter drop
            }
        }

        """
    }

    /// The confinement alone, for explicit egress in a namespace the runtime did not make
    /// (a pod's): nothing is redirected, and whatever is not for the namespace itself is
    /// rejected (at once, as `agent run`'s namespace without a route fails at once). The
    /// engine's interfaces and routes would otherwise be a way around the proxies.
    static var confinement: String {
        """
        table inet safehouse {
            chain confine {
                type filter hook output priority 0; policy accept;
                ip daddr 127.0.0.0/8 accept
                ip6 daddr ::1 accept
                fib daddr type local accept
                counter reject
            }
        }

        """
    }

    /// Installs the routes and the rules in the calling thread's network namespace;
    /// `replacing` where an earlier table may be there (a namespace the runtime joined).
    static func install(replacing: Bool) throws {
        try run("ip", ["-batch", "-"], input: routes)
        try run("nft", ["-f", "-"], input: (replacing ? replacingPrelude : "") + ruleset)
    }

    /// Installs the confinement alone in the calling thread's network namespace (always
    /// one the runtime joined).
    static func confine() throws {
        try run("nft", ["-f", "-"], input: replacingPrelude + confinement)
    }

    /// Runs `command` with `input` on its stdin; a failure throws its first line of
    /// stderr. Called while single-threaded (create), so fork is safe.
    package static func run(_ command: String, _ args: [String], input: String) throws {
        guard let path = Processes.lookPath(command, env: HelperProcess.searchPath) else {
            throw RuntimeError("egress: transparent capture needs \(command) (Debian: \(command == "nft" ? "nftables" : "iproute2"))")
        }
        let (status, _, line) = try HelperProcess.run(path, [command] + args, input: input)
        guard status == .exited(0) else {
            throw RuntimeError("egress: \(command) \(args.joined(separator: " ")) in the sandbox: \(status == .exited(127) ? "could not run \(path)" : "exit status \(status.shellCode)"): \(line ?? "no message")")
        }
    }
}
