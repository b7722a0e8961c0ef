import OCI

/// Everything a sandbox's warden is told by the runtime that starts it: one JSON
/// document, written by the launcher (`document`) and read by the warden
/// (`init(document:stateDirectory:)`), so the two cannot drift apart.
///
/// The state directory is not in the document: it stays on the warden's command line
/// (`safehouse-warden --state-dir DIR --config-fd N`), where `ps` and `pgrep -f` find
/// the warden of a sandbox by it.
///
/// Flat JSON (FlatJSONWriter, FlatJSONObject), not Codable: the runtime, which writes
/// it on the start path, does not link Foundation.
public struct WardenConfiguration: Equatable, Sendable {
    public var stateDirectory: String
    public var initPid: Int32
    public var timeoutSeconds: Double?
    public var cgroupPaths: [String]
    /// The egress proxy's listening socket (inherited), its allowlist (the
    /// annotation's comma-separated form) and the operator's hosts file.
    public var egressListener: Int32?
    /// The SOCKS5 listener; the capture listeners and DNS socket of transparent
    /// egress (all inherited, all made in the sandbox's network namespace).
    public var socksListener: Int32?
    public var captureListeners: [Int32] = []
    public var dnsSocket: Int32?
    public var egressAllow: String?
    public var egressHosts: String?
    /// Bytes each way the sandbox may move through the proxy.
    public var egressMaximumBytes: UInt64?
    public var egressMaximumConnections: Int?
    public var egressIdleTimeout: Double?
    /// The policy's network.decider (`exec:/path` or `http://127.0.0.1:PORT/PATH`) and
    /// its deadline in seconds.
    public var egressDecider: String?
    public var egressDeciderTimeout: Double?
    /// The secrets the proxy puts in, values included: this document travels through
    /// a pipe (WardenLauncher) and is never written to a file.
    public var egressSecrets: [Secret] = []
    /// The sandbox's own CA (certificate and key, PEM) with which the proxy terminates
    /// TLS to the secrets' hosts: made at create (`safehouse-warden --make-ca`), its
    /// key travelling only through pipes, like the secrets' values.
    public var egressCACertificate: String?
    public var egressCAKey: String?
    /// The policy's network.upstreamCA: a bundle trusted beside the host's for the
    /// servers of terminated connections.
    public var egressUpstreamCA: String?

    public struct Secret: Equatable, Sendable {
        public var name: String
        public var placeholder: String
        public var hosts: [String]
        public var header: String?
        public var value: String

        public init(name: String, placeholder: String, hosts: [String], header: String?, value: String) {
            self.name = name
            self.placeholder = placeholder
            self.hosts = hosts
            self.header = header
            self.value = value
        }
    }
    /// The sandbox's audit log (path, key file, id); nil: the warden writes none.
    public var audit: AuditDestination?
    /// Record the init's exit in the audit log (taskstats): the runtime is not its
    /// parent and cannot.
    public var recordExit = false
    /// Written to (one byte) and closed once the exit watch is registered, before
    /// the init can run the sandbox's command (`create` waits for it).
    public var readyFD: Int32?
    /// The process that runs the sandbox in the foreground (`agent run`, `run`):
    /// if it dies first, the sandbox is abandoned (WardenReport.Reason.abandoned).
    public var ownerPid: Int32?

    public init(stateDirectory: String, initPid: Int32, timeoutSeconds: Double?, cgroupPaths: [String]) {
        self.stateDirectory = stateDirectory
        self.initPid = initPid
        self.timeoutSeconds = timeoutSeconds
        self.cgroupPaths = cgroupPaths
    }

    /// The inherited descriptors the warden serves egress on.
    public var egressDescriptors: [Int32] {
        [egressListener, socksListener].compactMap { $0 } + captureListeners + (dnsSocket.map { [$0] } ?? [])
    }

    // MARK: the document

    enum Key {
        static let pid = "pid", timeout = "timeoutSeconds", cgroups = "cgroupPaths", owner = "ownerPid"
        static let egressFD = "egressFD", socksFD = "socksFD", captureFDs = "captureFDs", dnsFD = "dnsFD"
        static let egressAllow = "egressAllow", egressHosts = "egressHosts", egressMaxBytes = "egressMaxBytes"
        static let egressMaxConnections = "egressMaxConnections", egressIdleTimeout = "egressIdleTimeout"
        static let egressDecider = "egressDecider", egressDeciderTimeout = "egressDeciderTimeout", egressSecrets = "egressSecrets"
        static let egressCACertificate = "egressCACertificate", egressCAKey = "egressCAKey", egressUpstreamCA = "egressUpstreamCA"
        static let audit = "audit", auditKey = "auditKey", auditID = "auditID", recordExit = "recordExit", readyFD = "readyFD"
    }

    /// The document the warden reads (everything but the state directory).
    public var document: [UInt8] {
        var w = FlatJSONWriter()
        w.add(Key.pid, Int64(initPid))
        if let t = timeoutSeconds { w.add(Key.timeout, t) }
        if !cgroupPaths.isEmpty { w.add(Key.cgroups, cgroupPaths) }
        if let p = ownerPid { w.add(Key.owner, Int64(p)) }
        if let fd = egressListener { w.add(Key.egressFD, Int64(fd)) }
        if let fd = socksListener { w.add(Key.socksFD, Int64(fd)) }
        if !captureListeners.isEmpty { w.add(Key.captureFDs, captureListeners.map { Int64($0) }) }
        if let fd = dnsSocket { w.add(Key.dnsFD, Int64(fd)) }
        if let a = egressAllow { w.add(Key.egressAllow, a) }
        if let h = egressHosts { w.add(Key.egressHosts, h) }
        if let n = egressMaximumBytes { w.add(Key.egressMaxBytes, n) }
        if let n = egressMaximumConnections { w.add(Key.egressMaxConnections, Int64(n)) }
        if let t = egressIdleTimeout { w.add(Key.egressIdleTimeout, t) }
        if let d = egressDecider { w.add(Key.egressDecider, d) }
        if let t = egressDeciderTimeout { w.add(Key.egressDeciderTimeout, t) }
        if !egressSecrets.isEmpty {
            w.add(Key.egressSecrets, objects: egressSecrets.map { s in
                var o = FlatJSONWriter()
                o.add("name", s.name)
                o.add("placeholder", s.placeholder)
                o.add("hosts", s.hosts)
                if let h = s.header { o.add("header", h) }
                o.add("value", s.value)
                return o
            })
        }
        if let c = egressCACertificate { w.add(Key.egressCACertificate, c) }
        if let k = egressCAKey { w.add(Key.egressCAKey, k) }
        if let u = egressUpstreamCA { w.add(Key.egressUpstreamCA, u) }
        if let audit {
            w.add(Key.audit, audit.path)
            w.add(Key.auditID, audit.id)
            if let key = audit.key { w.add(Key.auditKey, key) }
        }
        if recordExit { w.add(Key.recordExit, true) }
        if let fd = readyFD { w.add(Key.readyFD, Int64(fd)) }
        return w.bytes
    }

    /// Reads the launcher's document; each bad field is named.
    public init(document bytes: [UInt8], stateDirectory: String) throws {
        guard let o = FlatJSONObject(parsing: bytes) else { throw WardenConfigurationError("not a JSON object") }
        func problem(_ key: String, _ text: String) -> WardenConfigurationError { WardenConfigurationError("\(key): \(text)") }
        // A field left out is nil; one that `read` cannot take is refused as `not`.
        func field<T>(_ key: String, _ read: (String) -> T?, not: String) throws -> T? {
            guard o.contains(key) else { return nil }
            guard let value = read(key) else { throw problem(key, not) }
            return value
        }
        func string(_ key: String) throws -> String? { try field(key, o.string, not: "not a string") }
        func int32(_ key: String, from low: Int64, not: String) throws -> Int32? {
            try field(key, { o.int64($0).flatMap { $0 >= low && $0 <= Int64(Int32.max) ? Int32($0) : nil } }, not: not)
        }
        func positive(_ key: String, _ what: String) throws -> Int32? { try int32(key, from: 1, not: "not \(what)") }
        func descriptor(_ key: String) throws -> Int32? { try int32(key, from: 3, not: "not a descriptor") }
        func seconds(_ key: String) throws -> Double? {
            try field(key, { o.double($0).flatMap { $0 > 0 && $0.isFinite ? $0 : nil } }, not: "not a positive number of seconds")
        }
        guard !stateDirectory.isEmpty else { throw WardenConfigurationError("--state-dir is required") }
        guard o.contains(Key.pid) else { throw WardenConfigurationError("\(Key.pid) is required") }
        let pid = try positive(Key.pid, "a process id") ?? 0
        let cgroups = try field(Key.cgroups, o.stringArray, not: "not a list of paths") ?? []
        self.init(stateDirectory: stateDirectory, initPid: pid, timeoutSeconds: try seconds(Key.timeout), cgroupPaths: cgroups)
        ownerPid = try positive(Key.owner, "a process id")
        egressListener = try descriptor(Key.egressFD)
        socksListener = try descriptor(Key.socksFD)
        let captureFDs = try field(Key.captureFDs, { key in
            o.int64Array(key).flatMap { list in list.allSatisfy { $0 >= 3 && $0 <= Int64(Int32.max) } ? list : nil }
        }, not: "not a list of descriptors")
        captureListeners = captureFDs?.map { Int32($0) } ?? []
        dnsSocket = try descriptor(Key.dnsFD)
        egressAllow = try string(Key.egressAllow)
        egressHosts = try string(Key.egressHosts)
        egressMaximumBytes = try field(Key.egressMaxBytes, o.uint64, not: "not a number of bytes")
        egressMaximumConnections = try positive(Key.egressMaxConnections, "a positive number").map { Int($0) }
        egressIdleTimeout = try seconds(Key.egressIdleTimeout)
        egressDecider = try string(Key.egressDecider)
        egressDeciderTimeout = try seconds(Key.egressDeciderTimeout)
        if let list = try field(Key.egressSecrets, o.objects, not: "not a list of objects") {
            egressSecrets = try list.enumerated().map { i, s in
                guard let name = s.string("name"), let placeholder = s.string("placeholder"), let hosts = s.stringArray("hosts"),
                      let value = s.string("value") else {
                    throw problem("\(Key.egressSecrets)[\(i)]", "needs name, placeholder, hosts and value")
                }
                return Secret(name: name, placeholder: placeholder, hosts: hosts, header: s.string("header"), value: value)
            }
        }
        egressCACertificate = try string(Key.egressCACertificate)
        egressCAKey = try string(Key.egressCAKey)
        egressUpstreamCA = try string(Key.egressUpstreamCA)
        if (egressCACertificate == nil) != (egressCAKey == nil) {
            throw WardenConfigurationError("\(Key.egressCACertificate) and \(Key.egressCAKey) go together")
        }
        if egressDescriptors.isEmpty == (egressAllow != nil) {
            throw WardenConfigurationError("\(Key.egressAllow) and the egress descriptors (\(Key.egressFD), \(Key.socksFD), \(Key.captureFDs), \(Key.dnsFD)) go together")
        }
        let auditKey = try string(Key.auditKey), auditID = try string(Key.auditID)
        recordExit = try field(Key.recordExit, o.bool, not: "not true or false") ?? false
        if let path = try string(Key.audit) {
            guard !path.isEmpty else { throw problem(Key.audit, "an empty path") }
            guard let auditID, !auditID.isEmpty else { throw WardenConfigurationError("\(Key.auditID) is required with \(Key.audit)") }
            audit = AuditDestination(path: path, key: auditKey, id: auditID)
        } else if auditID != nil || auditKey != nil || recordExit {
            throw WardenConfigurationError("\(auditID != nil ? Key.auditID : auditKey != nil ? Key.auditKey : Key.recordExit) needs \(Key.audit)")
        }
        readyFD = try descriptor(Key.readyFD)
    }
}

/// Where the warden's records go: the log, its HMAC key file, the sandbox's id.
public struct AuditDestination: Equatable, Sendable {
    public var path: String
    public var key: String?
    public var id: String

    public init(path: String, key: String?, id: String) {
        self.path = path
        self.key = key
        self.id = id
    }
}

/// A warden configuration document that cannot be used, naming the field.
public struct WardenConfigurationError: Error, CustomStringConvertible {
    public let description: String
    init(_ problem: String) { description = "configuration: " + problem }
}
