import Cgroups
import CLinux
import Egress
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The keeper of one agent sandbox, from create until its init exits.
///
/// Per sandbox rather than a shared daemon (../shared/DESIGN.md): no tenant can reach
/// another's policy through it, nothing has to run before the first sandbox, and its
/// cost is one small process. It sleeps in poll(2) on two descriptors, a pidfd of the
/// container's init and a signalfd, so it uses no CPU while the sandbox runs:
///
/// - SIGUSR1 (sent by `start`) starts the wall-clock deadline; when it passes, every
///   process in the sandbox's cgroups gets SIGKILL (not only the init).
/// - SIGTERM, SIGINT, SIGHUP: the emergency stop, the same cgroup-wide SIGKILL.
/// - The init's exit ends the watch: the report (why it ended, OOM kills, forks
///   refused at the pids limit) goes to `<state dir>/warden.json`, then it exits.
public struct Warden {
    public struct Configuration: Equatable {
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

        public init(stateDirectory: String, initPid: Int32, timeoutSeconds: Double?, cgroupPaths: [String]) {
            self.stateDirectory = stateDirectory
            self.initPid = initPid
            self.timeoutSeconds = timeoutSeconds
            self.cgroupPaths = cgroupPaths
        }

        /// `--state-dir DIR --pid PID [--timeout SECONDS] [--cgroup PATH]...
        ///  [--egress-fd FD] [--socks-fd FD] [--capture-fd FD]... [--dns-fd FD]
        ///  [--egress-allow LIST [--egress-hosts FILE] [--egress-max-bytes N]]`
        /// The allowlist goes with any of the descriptors, and only with them.
        public init(arguments: [String]) throws {
            var dir: String?, pid: Int32?, timeout: Double?, cgroups: [String] = []
            var egressFD: Int32?, egressAllow: String?, egressHosts: String?, egressBytes: UInt64?
            var egressConnections: Int?, egressIdle: Double?
            var socksFD: Int32?, captureFDs: [Int32] = [], dnsFD: Int32?
            var i = 0
            func value() throws -> String {
                i += 1
                guard i < arguments.count else { throw WardenError("\(arguments[i - 1]): needs a value") }
                return arguments[i]
            }
            func descriptor() throws -> Int32 {
                let name = arguments[i], text = try value()
                guard let fd = Int32(text), fd >= 3 else { throw WardenError("\(name): \"\(text)\" is not a descriptor") }
                return fd
            }
            while i < arguments.count {
                switch arguments[i] {
                case "--state-dir": dir = try value()
                case "--pid":
                    let text = try value()
                    guard let p = Int32(text), p > 0 else { throw WardenError("--pid: \"\(text)\" is not a process id") }
                    pid = p
                case "--timeout":
                    let text = try value()
                    guard let t = Double(text), t > 0 else { throw WardenError("--timeout: \"\(text)\" is not a positive number of seconds") }
                    timeout = t
                case "--cgroup": cgroups.append(try value())
                case "--egress-fd": egressFD = try descriptor()
                case "--socks-fd": socksFD = try descriptor()
                case "--capture-fd": captureFDs.append(try descriptor())
                case "--dns-fd": dnsFD = try descriptor()
                case "--egress-allow": egressAllow = try value()
                case "--egress-hosts": egressHosts = try value()
                case "--egress-max-bytes":
                    let text = try value()
                    guard let n = UInt64(text) else { throw WardenError("--egress-max-bytes: \"\(text)\" is not a number") }
                    egressBytes = n
                case "--egress-max-connections":
                    let text = try value()
                    guard let n = Int(text), n > 0 else { throw WardenError("--egress-max-connections: \"\(text)\" is not a positive number") }
                    egressConnections = n
                case "--egress-idle-timeout":
                    let text = try value()
                    guard let t = Double(text), t > 0 else { throw WardenError("--egress-idle-timeout: \"\(text)\" is not a positive number of seconds") }
                    egressIdle = t
                default: throw WardenError("unknown argument \"\(arguments[i])\"")
                }
                i += 1
            }
            guard let dir else { throw WardenError("--state-dir is required") }
            guard let pid else { throw WardenError("--pid is required") }
            self.init(stateDirectory: dir, initPid: pid, timeoutSeconds: timeout, cgroupPaths: cgroups)
            let anySocket = egressFD != nil || socksFD != nil || !captureFDs.isEmpty || dnsFD != nil
            if anySocket != (egressAllow != nil) {
                throw WardenError("--egress-allow and the egress descriptors (--egress-fd, --socks-fd, --capture-fd, --dns-fd) go together")
            }
            egressListener = egressFD
            socksListener = socksFD
            captureListeners = captureFDs
            dnsSocket = dnsFD
            self.egressAllow = egressAllow
            self.egressHosts = egressHosts
            egressMaximumBytes = egressBytes
            egressMaximumConnections = egressConnections
            egressIdleTimeout = egressIdle
        }
    }

    /// Why the watch ended.
    public enum Reason: String, Sendable {
        /// The init exited by itself.
        case exited
        /// The wall-clock deadline passed.
        case timeout
        /// SIGTERM (or INT, HUP): the emergency stop.
        case stopped
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    public static let reportName = "warden.json"

    /// Watches until the init exits and writes the report. Returns the reason.
    @discardableResult
    public func run() throws -> Reason {
        let signals = [SIGUSR1, SIGTERM, SIGINT, SIGHUP]
        Signals.block(signals)
        let signalFD = try Signals.descriptor(for: signals)
        // The proxy's event loop thread starts after the mask is set, so it inherits it.
        let proxy = try startEgressProxy()
        defer { _ = proxy }
        let pidFD = sh_pidfd_open(configuration.initPid)
        let cgroups = CgroupManager(recordedPaths: configuration.cgroupPaths)
        var reason: Reason?
        var deadline: Double?
        if pidFD >= 0 {
            while true {
                var fds = [pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signalFD.rawValue, events: Int16(POLLIN), revents: 0)]
                let wait = deadline.map { Int32(max(0, ($0 - Self.now()) * 1000).rounded(.up)) } ?? -1
                let n = poll(&fds, 2, wait)
                if n < 0 { if errno == EINTR { continue }; break }
                if n == 0, deadline != nil {
                    reason = reason ?? .timeout
                    deadline = nil
                    cgroups.killAll()
                    continue
                }
                // Signals before the exit: a stop that killed the init is a stop.
                if fds[1].revents != 0 {
                    switch Signals.next(from: signalFD) {
                    case SIGUSR1:
                        if deadline == nil, reason == nil, let t = configuration.timeoutSeconds { deadline = Self.now() + t }
                    case SIGTERM, SIGINT, SIGHUP:
                        reason = reason ?? .stopped
                        deadline = nil
                        cgroups.killAll()
                    default: break
                    }
                }
                if fds[0].revents != 0 { break }
            }
            close(pidFD)
        }
        let final = reason ?? .exited
        try writeReport(final, cgroups: cgroups, dnsSuspicious: proxy?.dnsSuspiciousCount())
        return final
    }

    public static let egressAuditName = "egress.jsonl"

    /// The egress proxy, when the sandbox has an allowlist; nil otherwise (no thread,
    /// no NIO memory). It lives until this process exits, which is when the init has.
    func startEgressProxy() throws -> EgressProxy? {
        guard let allow = configuration.egressAllow else { return nil }
        let allowlist: Allowlist
        do { allowlist = try Allowlist(annotation: allow) } catch { throw WardenError("\(error)") }
        var hosts = HostsMapping()
        if let path = configuration.egressHosts {
            let bytes = try FileDescriptor.open(path, O_RDONLY).readAll(path: path)
            hosts = HostsMapping(text: String(decoding: bytes, as: UTF8.self))
        }
        return try EgressProxy.start(EgressProxy.Configuration(
            allowlist: allowlist, hosts: hosts, listener: configuration.egressListener,
            auditPath: configuration.stateDirectory + "/" + Self.egressAuditName,
            maximumConnections: configuration.egressMaximumConnections ?? 256,
            maximumBytes: configuration.egressMaximumBytes,
            idleTimeout: configuration.egressIdleTimeout ?? 300, socksListener: configuration.socksListener,
            captureListeners: configuration.captureListeners, dnsSocket: configuration.dnsSocket))
    }

    func writeReport(_ reason: Reason, cgroups: CgroupManager, dnsSuspicious: Int? = nil) throws {
        var text = "{\"reason\":\"\(reason.rawValue)\""
        text += ",\"oomKills\":\(cgroups.oomEventCount())"
        text += ",\"pidsLimitHits\":\(cgroups.pidsLimitHits())"
        if let t = configuration.timeoutSeconds { text += ",\"timeoutMilliseconds\":\(UInt64(t * 1000))" }
        // DNS queries refused as exfiltration-shaped (transparent egress only).
        if let n = dnsSuspicious { text += ",\"dnsSuspicious\":\(n)" }
        text += "}\n"
        try Files.writeAtomically(configuration.stateDirectory + "/" + Self.reportName, Array(text.utf8), mode: 0o644)
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

public struct WardenError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
