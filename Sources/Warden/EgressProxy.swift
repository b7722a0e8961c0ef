import Egress
import Linux
import NIOCore
import SandboxInterface
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox's egress: an HTTP forward proxy and HTTPS `CONNECT` tunnel, a SOCKS5
/// proxy, the capture listeners of transparent egress and the sandbox's DNS resolver,
/// each on a socket the runtime made inside the sandbox's network namespace
/// (Runtime/EgressListener.swift), all served from the warden in the host's namespace
/// by one event loop, under one allowlist, one quota and one audit file.
///
/// One event loop thread, started only for a sandbox with a non-empty allowlist: the
/// warden's private memory is budgeted per sandbox. The pieces follow NIO's layering:
/// the decisions are pure (the Egress target: Allowlist, ProxyRequest, ClientHello),
/// `EgressConnection` is the thin handler that applies them to one proxy client,
/// `EgressTunnel` to one captured or SOCKS connection, `EgressDNS` to one query, and
/// `EgressPeer` relays the origin server's bytes back.
public final class EgressProxy {
    public struct Configuration: Sendable {
        public var allowlist: Allowlist
        public var hosts: HostsMapping
        /// The HTTP proxy's listening socket (inherited from the runtime), if served.
        public var listener: Int32?
        /// The SOCKS5 listening socket.
        public var socksListener: Int32?
        /// The capture listeners (127.0.0.1 and [::1]) and the DNS socket of
        /// transparent egress.
        public var captureListeners: [Int32] = []
        public var dnsSocket: Int32?
        /// Where every decision is recorded, one JSON line each.
        public var auditPath: String?
        /// The sandbox's audit log, where every decision goes too (nil: not there).
        var auditAppender: AuditAppender?
        /// Client connections served at once; more are refused with 503.
        public var maximumConnections: Int
        /// Bytes each way over all connections; a connection that crosses it is cut.
        public var maximumBytes: UInt64?
        /// Seconds a connection may pass with no byte either way.
        public var idleTimeout: Double
        /// Where the control channel listens (EgressControl); nil: no channel.
        public var controlPath: String?
        /// Who is asked about a destination no rule covers, and how long it may take.
        public var decider: DeciderTarget?
        public var deciderTimeout: Double = 2
        /// Credentials put into plain HTTP requests to their hosts (SecretInjection).
        public var secrets: [EgressSecret] = []
        /// The sandbox's CA and the upstream trust, when it has secrets: TLS to their
        /// hosts is terminated (EgressTermination).
        var termination: EgressTermination.Settings?

        public init(allowlist: Allowlist, hosts: HostsMapping = HostsMapping(), listener: Int32?, auditPath: String? = nil,
                    maximumConnections: Int = 256, maximumBytes: UInt64? = nil, idleTimeout: Double = 300,
                    socksListener: Int32? = nil, captureListeners: [Int32] = [], dnsSocket: Int32? = nil) {
            self.socksListener = socksListener
            self.captureListeners = captureListeners
            self.dnsSocket = dnsSocket
            self.idleTimeout = idleTimeout
            self.allowlist = allowlist
            self.hosts = hosts
            self.listener = listener
            self.auditPath = auditPath
            self.maximumConnections = maximumConnections
            self.maximumBytes = maximumBytes
        }
    }

    let group: MultiThreadedEventLoopGroup
    let channels: [Channel]
    let shared: EgressShared

    /// Starts serving on the configuration's sockets. Call after the signals the
    /// warden reads are blocked: the event loop thread inherits the mask.
    public static func start(_ configuration: Configuration) throws -> EgressProxy {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let shared = EgressShared(configuration: configuration, audit: try EgressAuditLog(path: configuration.auditPath, appender: configuration.auditAppender))
        var channels: [Channel] = []
        do {
            if let fd = configuration.listener {
                channels.append(try serve(fd, group: group, configuration: configuration) { EgressConnection(shared: shared) })
            }
            if let fd = configuration.socksListener {
                channels.append(try serve(fd, group: group, configuration: configuration) { EgressTunnel(shared: shared, kind: .socks) })
            }
            for fd in configuration.captureListeners {
                channels.append(try serve(fd, group: group, configuration: configuration) { EgressTunnel(shared: shared, kind: .captured) })
            }
            if let fd = configuration.dnsSocket {
                channels.append(try DatagramBootstrap(group: group)
                    .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: DNSMessage.maximumQueryLength + 1))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EgressDNS(shared: shared)) }
                    }
                    .withBoundSocket(fd)
                    .wait())
            }
            if let path = configuration.controlPath {
                channels.append(try serveControl(at: path, group: group, shared: shared))
            }
            return EgressProxy(group: group, channels: channels, shared: shared)
        } catch {
            try? group.syncShutdownGracefully()
            throw WardenError("egress proxy: \(error)")
        }
    }

    static func serve(_ fd: Int32, group: MultiThreadedEventLoopGroup, configuration: Configuration,
                      handler: @escaping @Sendable () -> ChannelHandler) throws -> Channel {
        try ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            // A client that shuts down its sending side (nc, scripts) still gets its
            // answer: the end of its input is passed on, not taken for a hang-up.
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let idle = TimeAmount.milliseconds(Int64(configuration.idleTimeout * 1000))
                    try channel.pipeline.syncOperations.addHandlers(IdleStateHandler(allTimeout: idle), handler())
                }
            }
            .withBoundSocket(fd)
            .wait()
    }

    /// The control channel: a Unix socket only root reaches (0600, in the root-only
    /// state directory), served on the proxy's event loop.
    static func serveControl(at path: String, group: MultiThreadedEventLoopGroup, shared: EgressShared) throws -> Channel {
        let channel = try EgressControl.withShortPath(path) { short in
            try ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EgressControlHandler(shared: shared)) }
                }
                .bind(unixDomainSocketPath: short, cleanupExistingSocketFile: true)
                .wait()
        }
        guard chmod(path, 0o600) == 0 else {
            channel.close(promise: nil)
            throw WardenError("control channel \(path): chmod: \(String(cString: strerror(errno)))")
        }
        return channel
    }

    init(group: MultiThreadedEventLoopGroup, channels: [Channel], shared: EgressShared) {
        self.group = group
        self.channels = channels
        self.shared = shared
    }

    /// DNS queries refused as exfiltration-shaped so far (read on the event loop).
    public func dnsSuspiciousCount() -> Int {
        (try? group.next().submit { self.shared.dnsSuspicious }.wait()) ?? 0
    }

    /// Whether the sandbox spent its byte quota (network.maxBytes, either way): a limit
    /// hit, for the report.
    public func quotaWasSpent() -> Bool {
        (try? group.next().submit { self.shared.quotaSpent }.wait()) ?? false
    }
}

extension NIOThreadPool {
    /// `pool`, made and started with `threads` threads at its first use.
    static func started(_ pool: inout NIOThreadPool?, threads: Int) -> NIOThreadPool {
        if let pool { return pool }
        let made = NIOThreadPool(numberOfThreads: threads)
        made.start()
        pool = made
        return made
    }
}

/// What every connection of one proxy shares. Mutated only on the proxy's one event
/// loop thread, hence unchecked.
final class EgressShared: @unchecked Sendable {
    let configuration: EgressProxy.Configuration
    /// The rules as they stand (the policy's and every change since) and what they
    /// compile to: what each new connection is judged by.
    private(set) var rules: EgressRuleBook
    private(set) var allowlist: Allowlist
    let audit: EgressAuditLog
    let decider: EgressDecider?
    var connections = 0
    var bytesUp: UInt64 = 0
    var bytesDown: UInt64 = 0
    /// What the sandbox's DNS gave out, for mapping captured addresses back to names.
    var book = AddressBook()
    /// DNS queries refused as exfiltration-shaped (names off the allowlist, TXT, NULL,
    /// ANY, oversized names).
    var dnsSuspicious = 0
    /// TLS termination for the secrets' hosts; nil without secrets.
    let termination: EgressTermination?

    init(configuration: EgressProxy.Configuration, audit: EgressAuditLog) {
        self.configuration = configuration
        self.rules = EgressRuleBook(policy: configuration.allowlist.rules)
        self.allowlist = configuration.allowlist
        self.audit = audit
        self.decider = configuration.decider.map { EgressDecider(target: $0, timeout: configuration.deciderTimeout) }
        self.termination = configuration.termination.map { EgressTermination(settings: $0, secrets: configuration.secrets) }
    }

    /// Applies `agent allow|deny`: the next connection is judged by the new rules.
    func change(_ operation: EgressControl.Operation, _ changed: [AllowRule], source: String) -> [EgressRuleBook.Change] {
        let changes = operation == .allow ? rules.allow(changed, source: source) : rules.deny(changed, source: source)
        allowlist = rules.allowlist
        return changes
    }

    var currentRules: [EgressControl.Rule] {
        rules.entries.map { EgressControl.Rule(rule: $0.rule.text, effect: $0.effect.rawValue, source: $0.source) }
    }

    var stats: EgressControl.Stats {
        var s = EgressControl.Stats()
        s.allowed = audit.allowed
        s.denied = audit.denied
        s.failed = audit.failed
        s.bytesUp = bytesUp
        s.bytesDown = bytesDown
        s.connections = UInt64(max(0, connections))
        return s
    }

    /// Where getaddrinfo runs: one thread, started at the first name the hosts mapping
    /// does not hold, so the event loop never waits on DNS (a slow upstream resolver
    /// would otherwise stall every connection of the sandbox), and a warden whose names
    /// are all mapped, or that is never asked one, pays for no thread.
    var lookups: NIOThreadPool?

    /// The addresses of `name`, on `eventLoop`: the hosts mapping at once, else the
    /// host's resolver on the lookup thread.
    func resolve(_ name: String, on eventLoop: EventLoop) -> EventLoopFuture<[IPAddress]> {
        if let mapped = configuration.hosts.lookup(name) { return eventLoop.makeSucceededFuture(mapped) }
        return NIOThreadPool.started(&lookups, threads: 1).runIfActive(eventLoop: eventLoop) { EgressResolver.addresses(of: name) }
    }

    /// Whether the byte quota (each way, all connections) is spent.
    var quotaSpent: Bool {
        guard let max = configuration.maximumBytes else { return false }
        return bytesUp > max || bytesDown > max
    }
}
