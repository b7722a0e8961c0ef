import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Egress in a network namespace the runtime did not make and several containers may
/// share: a CRI pod's (containerd makes it, CNI sets it up, the pod sandbox and every
/// container of the pod join it by path), or one Podman names (`--network ns:PATH`, a
/// pod's infra container).
///
/// A namespace has one loopback, so it can hold one set of egress listeners (the
/// proxies at 127.0.0.1:3128 and :1080, the capture listeners, the resolver) and one
/// capture ruleset. The first sandbox to join the namespace opens them, and its warden
/// serves them: it *owns* the namespace's egress. A sandbox whose policy has no
/// allowlist owns it too, with an empty one (every connection and DNS query refused):
/// the engine's interfaces would otherwise be a way out. Every later
/// sandbox of the namespace opens nothing and is under the owner's rules; its policy
/// must say exactly what the owner's says about the network, or it is refused (one
/// namespace cannot enforce two allowlists). In a CRI pod the owner is the pod
/// sandbox ("pause") container, made first: the pod's policy governs the pod.
///
/// The owner is recorded in the runtime root (`@netns/DEV-INO.json`, `@` keeps the
/// directory out of the container ids), keyed by the namespace's device and inode,
/// with its warden's pid and start time. A record is trusted only while that warden
/// lives: the listening sockets are the warden's alone, so a dead warden (crashed,
/// killed, or gone with its container) means the namespace has no listeners any more
/// and the next sandbox opens them again (and installs the capture again, which is
/// idempotent). While the warden lives its sockets hold the namespace, so its inode
/// cannot have been reused by another. Deleting the owner removes the record.
public struct SharedNetworkEgress {
    /// A network namespace's identity: the device and inode of its nsfs file.
    public struct NamespaceKey: Hashable, Sendable, CustomStringConvertible {
        public var device: UInt64
        public var inode: UInt64
    }

    /// Who serves a namespace's egress, and under which terms.
    public struct Owner: Equatable, Sendable {
        public var container: String
        public var wardenPid: Int32
        public var wardenStartTime: UInt64
        public var terms: [String: String]

        public init(container: String, wardenPid: Int32, wardenStartTime: UInt64, terms: [String: String]) {
            self.container = container
            self.wardenPid = wardenPid
            self.wardenStartTime = wardenStartTime
            self.terms = terms
        }

        var encoded: [UInt8] {
            var w = FlatJSONWriter()
            w.add("container", container)
            w.add("wardenPid", Int64(wardenPid))
            w.add("wardenStartTime", wardenStartTime)
            w.add("terms", terms)
            return w.bytes
        }

        init?(decoding bytes: [UInt8]) {
            guard let o = FlatJSONObject(parsing: bytes), let container = o.string("container"),
                  let pid = o.int64("wardenPid"), let start = o.uint64("wardenStartTime"),
                  let terms = o.stringMap("terms") else { return nil }
            self.init(container: container, wardenPid: Int32(truncatingIfNeeded: pid), wardenStartTime: start, terms: terms)
        }

        /// Whether the recorded warden is still that process (a reused pid is not).
        public var wardenLives: Bool {
            wardenPid > 0 && Processes.startTime(of: wardenPid) == wardenStartTime
        }
    }

    /// What a sandbox joining a namespace does about egress.
    public enum Decision: Equatable, Sendable {
        /// Open the listeners and the capture; become the owner once the warden runs.
        case serve
        /// Open nothing: `owner`'s warden serves the namespace under the same terms.
        case share(owner: String)
    }

    /// The terms a sandbox's egress is served under: every field the warden enforces
    /// for the whole namespace. Two sandboxes of one namespace must agree on all.
    public static func terms(of config: SandboxConfig) -> [String: String] {
        var t = ["network.allow": config.networkAllow.joined(separator: ",")]
        guard !config.networkAllow.isEmpty else { return t }
        t["network.mode"] = config.egressMode.rawValue
        if let n = config.egressMaxConnections { t["network.maxConnections"] = String(n) }
        if let n = config.egressMaxBytes { t["network.maxBytes"] = String(n) }
        if let s = config.egressIdleTimeout { t["network.idleTimeout"] = String(s) }
        if let h = config.egressHosts { t["SAFEHOUSE_EGRESS_HOSTS"] = h }
        return t
    }

    public let directory: String

    /// The registry of the runtime root `root`.
    public init(root: String) { directory = root + "/@netns" }

    func path(of key: NamespaceKey) -> String { directory + "/" + key.name + ".json" }

    /// The registry locked (flock on its directory, made on first use) until the
    /// returned lock is released: a decision and the record it leads to are one step.
    package func lock() throws -> ContainerLock {
        try stage("egress: cannot make \(directory)") { try Files.makeDirectories(directory, mode: 0o700) }
        return try ContainerLock(directory: directory)
    }

    /// The recorded owner of `key`, live or not.
    public func owner(of key: NamespaceKey) -> Owner? {
        guard let bytes = try? Files.read(path(of: key), limit: 1 << 20) else { return nil }
        return Owner(decoding: bytes)
    }

    /// Decides for sandbox `id` with `terms` joining the namespace `key` (named `path`
    /// in its spec). Call with the lock held. A record whose warden is gone is removed
    /// (it serves nothing); a live owner with other terms refuses the sandbox.
    public func decide(_ key: NamespaceKey, path: String, id: String, terms: [String: String]) throws -> Decision {
        guard let owner = owner(of: key) else { return .serve }
        guard owner.wardenLives else {
            _ = unlink(self.path(of: key))
            return .serve
        }
        if owner.terms != terms {
            let field = Set(owner.terms.keys).union(terms.keys).sorted().first { owner.terms[$0] != terms[$0] } ?? "network.allow"
            func shown(_ value: String?) -> String { value.map { $0.isEmpty ? "none" : "\"\($0)\"" } ?? "unset" }
            throw RuntimeError("egress: network namespace \(key) (linux.namespaces path \(path)) is served by container \(owner.container), whose policy has \(field) \(shown(owner.terms[field])); this container's has \(shown(terms[field])): a namespace has one allowlist (give the pod's containers the pod's policy)")
        }
        return .share(owner: owner.container)
    }

    /// Records `owner` as serving `key`. Call with the lock held.
    public func record(_ owner: Owner, for key: NamespaceKey) throws {
        try Files.writeAtomically(path(of: key), owner.encoded, mode: 0o600)
    }

    /// Removes the record of `key` if container `id` is its owner (delete, or a create
    /// that failed after recording).
    public func release(_ key: NamespaceKey, ownedBy id: String) {
        guard let lock = try? lock() else { return }
        defer { lock.release() }
        if owner(of: key)?.container == id { _ = unlink(path(of: key)) }
    }
}

extension SharedNetworkEgress.NamespaceKey {
    /// The namespace behind an open nsfs descriptor.
    public init(of fd: FileDescriptor) throws {
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else { throw SystemError(call: "fstat", path: "network namespace", errno: errno) }
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// The namespace an nsfs path names (a /proc/PID/ns/net, a bind mount of one).
    public init(path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw SystemError(call: "stat", path: path, errno: errno) }
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// `DEV-INO`: the record's file name.
    public var name: String { "\(device)-\(inode)" }
    /// As /proc names it (`net:[INO]`).
    public var description: String { "net:[\(inode)]" }

    public init?(name: String) {
        let parts = name.split(separator: "-")
        guard parts.count == 2, let d = UInt64(parts[0]), let i = UInt64(parts[1]) else { return nil }
        self.init(device: d, inode: i)
    }
}
