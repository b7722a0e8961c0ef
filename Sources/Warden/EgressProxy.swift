import Egress
import Linux
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox's egress proxy: an HTTP forward proxy and HTTPS `CONNECT` tunnel on a
/// listening socket the runtime made inside the sandbox's network namespace
/// (Runtime/EgressListener.swift), served from the warden in the host's namespace.
///
/// One event loop thread, started only for a sandbox with a non-empty allowlist: the
/// warden's private memory is budgeted per sandbox. The pieces follow NIO's layering:
/// the decisions are pure (the Egress target: Allowlist, ProxyRequest, ClientHello),
/// `EgressConnection` is the thin handler that applies them to one client connection,
/// and `EgressPeer` relays the origin server's bytes back.
public final class EgressProxy {
    public struct Configuration: Sendable {
        public var allowlist: Allowlist
        public var hosts: HostsMapping
        /// The listening socket (inherited from the runtime).
        public var listener: Int32
        /// Where every decision is recorded, one JSON line each.
        public var auditPath: String?
        /// Client connections served at once; more are refused with 503.
        public var maximumConnections: Int
        /// Bytes each way over all connections; a connection that crosses it is cut.
        public var maximumBytes: UInt64?
        /// Seconds a connection may pass with no byte either way.
        public var idleTimeout: Double

        public init(allowlist: Allowlist, hosts: HostsMapping = HostsMapping(), listener: Int32, auditPath: String? = nil,
                    maximumConnections: Int = 256, maximumBytes: UInt64? = nil, idleTimeout: Double = 300) {
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
    let serverChannel: Channel

    /// Starts serving on the configuration's listener. Call after the signals the
    /// warden reads are blocked: the event loop thread inherits the mask.
    public static func start(_ configuration: Configuration) throws -> EgressProxy {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let shared = EgressShared(configuration: configuration, audit: try EgressAuditLog(path: configuration.auditPath))
        do {
            let channel = try ServerBootstrap(group: group)
                .childChannelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
                // A client that shuts down its sending side (nc, scripts) still gets its
                // answer: the end of its input is passed on, not taken for a hang-up.
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let idle = TimeAmount.milliseconds(Int64(configuration.idleTimeout * 1000))
                        try channel.pipeline.syncOperations.addHandlers(
                            IdleStateHandler(allTimeout: idle), EgressConnection(shared: shared))
                    }
                }
                .withBoundSocket(configuration.listener)
                .wait()
            return EgressProxy(group: group, serverChannel: channel)
        } catch {
            try? group.syncShutdownGracefully()
            throw WardenError("egress proxy: \(error)")
        }
    }

    init(group: MultiThreadedEventLoopGroup, serverChannel: Channel) {
        self.group = group
        self.serverChannel = serverChannel
    }
}

/// What every connection of one proxy shares. Mutated only on the proxy's one event
/// loop thread, hence unchecked.
final class EgressShared: @unchecked Sendable {
    let configuration: EgressProxy.Configuration
    let resolver: EgressResolver
    let audit: EgressAuditLog
    var connections = 0
    var bytesUp: UInt64 = 0
    var bytesDown: UInt64 = 0

    init(configuration: EgressProxy.Configuration, audit: EgressAuditLog) {
        self.configuration = configuration
        self.resolver = EgressResolver(hosts: configuration.hosts)
        self.audit = audit
    }

    /// Whether the byte quota (each way, all connections) is spent.
    var quotaSpent: Bool {
        guard let max = configuration.maximumBytes else { return false }
        return bytesUp > max || bytesDown > max
    }
}
