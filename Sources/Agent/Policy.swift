import Runtime

/// A sandbox policy: what an agent may read, write, reach and use. Written in YAML or
/// JSON with human units (Quantity) and read strictly (PolicyReader): an unknown key
/// or a bad value is an error that names it.
///
/// Shipped profiles live in bundles/policies/ (and are compiled in: Profiles.swift).
public struct Policy: Equatable, Sendable {
    /// The profile name or file it came from ("default", "/etc/p.yaml").
    public var source: String
    /// The profile this policy was laid over: "default" unless the policy names
    /// another with `extends:`; nil only for the default profile itself.
    public var extends: String?
    public var description: String?
    public var filesystem = Filesystem()
    public var limits = Limits()
    public var user = UserMapping()
    /// Added to the process environment (after PATH and HOME, which it may replace).
    public var env: [String: String] = [:]
    /// The process's working directory inside the sandbox.
    public var workdir = "/scratch"
    public var network = Network()
    /// Credentials put in by the egress proxy (Secret); a list given replaces the base's.
    public var secrets: [Secret] = []
    public var backend: Backend = .native
    /// Where the sandbox's audit log goes (a file path; default
    /// /var/log/safehouse/<id>.audit.jsonl). It outlives the sandbox.
    public var audit: String?
    /// A key file: every audit record is also MACed (HMAC-SHA-256) with its bytes.
    public var auditKey: String?
    /// `audit: best-effort` (or `auditMode: best-effort` beside a log path): a log that
    /// cannot be written does not stop the sandbox from starting; it runs without
    /// audit and says so. By default (`required`) it does not start.
    public var auditBestEffort = false
    /// Capabilities the process keeps (bounding, effective, permitted); none by default.
    public var capabilities: [String] = []
    /// The seccomp profile: `agent` (everything but the dangerous families) or
    /// `minimal` (only what ordinary programs use).
    public var syscalls: SyscallProfile = .agent

    public init(source: String) { self.source = source }

    public struct Filesystem: Equatable, Sendable {
        /// Host directory mounted read-only at /input.
        public var input: String?
        /// Host directory mounted read-write at /output: the only thing that outlives
        /// the sandbox.
        public var output: String?
        /// How much the sandbox may write to /output (a bounded layer over the
        /// directory, copied back at the end); nil: the disk limit.
        public var outputSize: UInt64?
        /// Size of each of the tmpfs at /scratch and /tmp.
        public var scratch: UInt64 = 64 << 20
        /// The root stays read-only (writes only in /scratch, /tmp and /output).
        public var readonlyRoot = false
    }

    /// Nil in `memory`, `cpus`, `pids` and `timeout` means unlimited: a policy says so
    /// with `unlimited`; a policy that omits a limit keeps its base profile's.
    public struct Limits: Equatable, Sendable {
        public var memory: UInt64?
        public var cpus: Double?
        public var pids: Int64?
        /// Wall-clock seconds from start; the warden kills the sandbox after it.
        public var timeout: Double?
        /// Size of the ephemeral upper layer (all writes to the root filesystem).
        public var disk: UInt64 = 256 << 20
    }

    /// Root inside a user namespace mapped to an unprivileged host range.
    public struct UserMapping: Equatable, Sendable {
        public var uid: UInt32 = 0
        public var gid: UInt32 = 0
        public var userNamespace = true
        /// The first host uid and gid of the mapped range; nil: chosen at create from
        /// the reserved pool, clear of every /etc/subuid and /etc/subgid range
        /// (HostIDRange).
        public var hostID: UInt32?
        public var idCount: UInt32 = 65_536
    }

    public struct Network: Equatable, Sendable {
        /// Destinations the egress proxy lets through: "host", "*.domain",
        /// "host:port", CIDR. Empty: no network at all.
        public var allow: [String] = []
        /// Limits the egress proxy enforces: client connections at once, bytes each way
        /// over the sandbox's life (a transfer that crosses it is cut), and how long a
        /// connection may sit idle. Nil: the proxy's defaults (256, none, 5 minutes).
        public var maxConnections: Int?
        public var maxBytes: UInt64?
        public var idleTimeout: Double?
        /// `explicit` (the proxies, named in the environment), `transparent` (every
        /// connection captured, DNS answered by the warden) or `both` (the default).
        public var mode: EgressMode = .both
        /// Who is asked about a destination no rule covers: `exec:/path/prog` or
        /// `http://127.0.0.1:PORT/PATH` (Egress's DeciderTarget). Nil: no one, refused.
        public var decider: String?
        /// How long the decider may take, in seconds; nil: 2.
        public var deciderTimeout: Double?
        /// A CA bundle on the host trusted beside the host's own for the servers of
        /// the connections the proxy terminates TLS for (the secrets' hosts): for a
        /// host whose egress passes a corporate TLS proxy.
        public var upstreamCA: String?
    }

    /// A credential the sandbox may use but never sees (`secrets:`): its variable holds
    /// a placeholder, and the egress proxy puts the value in on requests to `hosts`.
    public struct Secret: Equatable, Sendable {
        /// The variable inside the sandbox.
        public var name: String
        /// Where the value is on the host: the caller's environment variable, or a file.
        public var env: String?
        public var file: String?
        /// Host names or `*.domain` wildcards the value may go to.
        public var hosts: [String]
        /// `Authorization: Bearer {}`: a header the proxy sets; nil: the placeholder is
        /// replaced where it appears in a request's headers.
        public var header: String?
    }

    /// The runtime's own vocabulary (native, gvisor): one list of backends.
    public typealias Backend = Runtime.Backend
    public enum SyscallProfile: String, Sendable, CaseIterable { case agent, minimal }
}

/// A policy problem, always naming the source and the field.
public struct PolicyError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
