import Crypto
import Egress
import EgressCA
import NIOCore
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// What TLS termination needs, for a sandbox whose policy has secrets: the sandbox's
/// CA (made at create, its key handed over the configuration pipe), one key for every
/// leaf, each host's server context (minted at its first connection, kept for the
/// warden's life), and the client context that verifies the real server.
///
/// Only connections to a host some secret names are terminated: the others stay
/// end-to-end tunnels, and the proxy never holds their plaintext.
final class EgressTermination {
    /// Unchecked: swift-crypto's P-256 key is not marked Sendable, but it is an
    /// immutable value once made, and only the event loop thread uses it.
    struct Settings: @unchecked Sendable {
        var ca: EgressCA
        /// The host's trust store, which upstream servers are verified against.
        var trustStore: String = EgressTermination.hostTrustStore
        /// A bundle added to it (network.upstreamCA: a corporate TLS proxy's CA).
        var upstreamCA: String?
    }

    /// Debian's and Ubuntu's bundle (and Alpine's, Arch's through a link).
    static let hostTrustStore = "/etc/ssl/certs/ca-certificates.crt"

    let settings: Settings
    let secrets: [EgressSecret]
    let leafKey = P256.Signing.PrivateKey()
    /// Touched on the event loop only.
    var serverContexts: [String: NIOSSLContext] = [:]
    var clientContextMade: Result<NIOSSLContext, Error>?

    init(settings: Settings, secrets: [EgressSecret]) {
        self.settings = settings
        self.secrets = secrets
    }

    /// Whether a connection to `host` is terminated: some secret may go to it.
    func terminates(_ host: String) -> Bool {
        secrets.contains { $0.goes(to: .name(host)) }
    }

    /// The context that shows the client a certificate for `host` signed by the
    /// sandbox's CA. HTTP/1.1 only (ALPN): the relay reads HTTP/1.
    func serverContext(for host: String) throws -> NIOSSLContext {
        if let made = serverContexts[host] { return made }
        let leaf = try LeafCertificate.mint(host: host, key: leafKey.publicKey, by: settings.ca)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: try leaf.der, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(leafKey.pemRepresentation.utf8), format: .pem)))
        configuration.applicationProtocols = ["http/1.1"]
        let context = try NIOSSLContext(configuration: configuration)
        serverContexts[host] = context
        return context
    }

    /// The context of the connection to the real server: verified against the host's
    /// trust store and the policy's upstream CA, by name. Made at the first use (the
    /// bundle is read then) and kept.
    func clientContext() throws -> NIOSSLContext {
        if let made = clientContextMade { return try made.get() }
        let made = Result {
            var configuration = TLSConfiguration.makeClientConfiguration()
            // A host without the common bundle (a minimal image) trusts the policy's alone.
            if let extra = settings.upstreamCA, access(settings.trustStore, R_OK) != 0 {
                configuration.trustRoots = .file(extra)
            } else {
                configuration.trustRoots = .file(settings.trustStore)
                if let extra = settings.upstreamCA { configuration.additionalTrustRoots = [.file(extra)] }
            }
            configuration.applicationProtocols = ["http/1.1"]
            return try NIOSSLContext(configuration: configuration)
        }
        clientContextMade = made
        return try made.get()
    }
}

extension EgressTermination {
    /// Turns the client's connection, whose ClientHello (`hello`, not yet passed on)
    /// asked for `serverName`, into a terminated one: a TLS server handler with a
    /// certificate for that name and a SecretRelay go after `owner`'s handler, which
    /// from then on passes the client's bytes through (counting them) and keeps the
    /// record. Throws when no certificate can be made (the owner refuses).
    func handOff(_ context: ChannelHandlerContext, owner: EgressClient, serverName: String,
                 addresses: [IPAddress], port: UInt16, hello: [UInt8]) throws {
        let tls = try serverContext(for: serverName)
        let relay = SecretRelay(termination: self, serverName: serverName, addresses: addresses, port: port, owner: owner,
                                socket: context)
        try context.pipeline.syncOperations.addHandlers([NIOSSLServerHandler(context: tls), relay], position: .after(context.handler))
        owner.record.tls = "terminated"
        // Until the relay decides: a client that leaves mid-handshake made no request.
        owner.record.decision = "failed"
        owner.record.reason = "the client sent no request"
        context.fireChannelRead(NIOAny(ByteBuffer(bytes: hello)))
    }
}
