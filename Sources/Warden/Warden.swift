import Cgroups
import CLinux
import Egress
import Linux
import OCI
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
/// - With `--audit`, every egress decision goes to the sandbox's audit log as it is
///   made (AuditAppender); with `--record-exit` (the runtime is not the init's
///   parent: an engine ran the sandbox detached) so does the init's exit status, which
///   the warden learns through taskstats (ExitStatusWatch).
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
        /// The sandbox's audit log (path, key file, id); nil: the warden writes none.
        public var audit: AuditDestination?
        /// Record the init's exit in the audit log (taskstats): the runtime is not its
        /// parent and cannot.
        public var recordExit = false
        /// Written to (one byte) and closed once the exit watch is registered, before
        /// the init can run the sandbox's command (`create` waits for it).
        public var readyFD: Int32?
        /// The process that runs the sandbox in the foreground (`agent run`, `run`):
        /// if it dies first, the sandbox is abandoned (see Reason.abandoned).
        public var ownerPid: Int32?

        public init(stateDirectory: String, initPid: Int32, timeoutSeconds: Double?, cgroupPaths: [String]) {
            self.stateDirectory = stateDirectory
            self.initPid = initPid
            self.timeoutSeconds = timeoutSeconds
            self.cgroupPaths = cgroupPaths
        }

        /// `--state-dir DIR --pid PID [--timeout SECONDS] [--cgroup PATH]...
        ///  [--egress-fd FD] [--socks-fd FD] [--capture-fd FD]... [--dns-fd FD]
        ///  [--egress-allow LIST [--egress-hosts FILE] [--egress-max-bytes N]]
        ///  [--audit FILE --audit-id ID [--audit-key FILE] [--record-exit]] [--ready-fd FD]
        ///  [--owner PID]`
        /// The allowlist goes with any of the descriptors, and only with them.
        public init(arguments: [String]) throws {
            var dir: String?, pid: Int32?, timeout: Double?, cgroups: [String] = []
            var egressFD: Int32?, egressAllow: String?, egressHosts: String?, egressBytes: UInt64?
            var egressConnections: Int?, egressIdle: Double?
            var socksFD: Int32?, captureFDs: [Int32] = [], dnsFD: Int32?
            var auditPath: String?, auditID: String?, auditKey: String?, recordExit = false, readyFD: Int32?
            var owner: Int32?
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
                case "--audit": auditPath = try value()
                case "--audit-id": auditID = try value()
                case "--audit-key": auditKey = try value()
                case "--record-exit": recordExit = true
                case "--ready-fd": readyFD = try descriptor()
                case "--owner":
                    let text = try value()
                    guard let p = Int32(text), p > 0 else { throw WardenError("--owner: \"\(text)\" is not a process id") }
                    owner = p
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
            if let auditPath {
                guard !auditPath.isEmpty else { throw WardenError("--audit: an empty path") }
                guard let auditID, !auditID.isEmpty else { throw WardenError("--audit-id is required with --audit") }
                audit = AuditDestination(path: auditPath, key: auditKey, id: auditID)
            } else if auditID != nil || auditKey != nil || recordExit {
                throw WardenError("\(auditID != nil ? "--audit-id" : auditKey != nil ? "--audit-key" : "--record-exit") needs --audit")
            }
            self.recordExit = recordExit
            self.readyFD = readyFD
            self.ownerPid = owner
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
        /// The process that ran it in the foreground died first (a SIGKILL, an OOM
        /// kill of `agent run`): nobody is left to end it, read its change set or
        /// remove it. Fail closed, as when the warden itself dies: stop it, and hand
        /// its removal to `safehouse delete --force` (Abandonment).
        case abandoned
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
        let appender = configuration.audit.map { AuditAppender($0) }
        // Registered before `create` returns (the ready byte), so before the init can
        // run the sandbox's command: its exit record cannot come before we listen.
        var exitWatch: ExitStatusWatch?
        var exitProblem: String?
        if configuration.recordExit {
            do { exitWatch = try ExitStatusWatch(pid: configuration.initPid) } catch { exitProblem = "\(error)" }
        }
        if let ready = configuration.readyFD {
            var byte: UInt8 = 1
            _ = Glibc.write(ready, &byte, 1)
            close(ready)
        }
        // The proxy's event loop thread starts after the mask is set, so it inherits it.
        let proxy = try startEgressProxy(appender: appender)
        defer { _ = proxy }
        let pidFD = sh_pidfd_open(configuration.initPid)
        let cgroups = CgroupManager(recordedPaths: configuration.cgroupPaths)
        var reason: Reason?
        var deadline: Double?
        // An owner already gone (pidfd_open: ESRCH) is seen at the first poll.
        var ownerFD: Int32 = configuration.ownerPid.map { sh_pidfd_open($0) } ?? -1
        var ownerGone = configuration.ownerPid != nil && ownerFD < 0
        defer { if ownerFD >= 0 { close(ownerFD) } }
        // Every exit on the host reaches the exit watch's socket. Waking for each would
        // cost a busy host one wake-up per exit per sandbox: after a drain the socket
        // is left out of poll for `ExitStatusWatch.drainInterval`, so a warden wakes at
        // most 10 times a second for other tasks' exits (none on an idle host), and the
        // queue holds what comes in between. The init's own exit is seen by its pidfd.
        var watchRearm: Double?
        if pidFD >= 0 {
            while true {
                let now = Self.now()
                if let r = watchRearm, r <= now { watchRearm = nil }
                let watched = watchRearm == nil ? exitWatch?.socket.rawValue ?? -1 : -1
                if ownerGone {
                    ownerGone = false
                    reason = reason ?? .abandoned
                    deadline = nil
                    cgroups.killAll()
                }
                var fds = [pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signalFD.rawValue, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: watched, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: ownerFD, events: Int16(POLLIN), revents: 0)]
                let wake = [deadline, watchRearm].compactMap { $0 }.min()
                // poll takes an int of milliseconds: a wait beyond it is cut to the
                // largest (the loop comes round again) rather than trapping.
                let wait = wake.map { Int32(min(max(0, ($0 - now) * 1000).rounded(.up), Double(Int32.max))) } ?? -1
                let n = poll(&fds, 4, wait)
                if n < 0 { if errno == EINTR { continue }; break }
                if let d = deadline, Self.now() >= d {
                    reason = reason ?? .timeout
                    deadline = nil
                    cgroups.killAll()
                    continue
                }
                if n == 0 { continue }
                // Other tasks' exits: read and dropped, so the queue never overflows.
                if fds[2].revents != 0 {
                    exitWatch?.drain()
                    watchRearm = Self.now() + ExitStatusWatch.drainInterval
                }
                if fds[3].revents != 0 {
                    close(ownerFD)
                    ownerFD = -1
                    ownerGone = true
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
        // The init's record was queued before its pidfd became readable (taskstats_exit
        // precedes exit_notify in do_exit): it is here now, or was lost.
        var exit: ExitStatus?
        if configuration.recordExit {
            if let exitWatch {
                if exitWatch.drain() { exit = exitWatch.status } else { exitProblem = exitWatch.missingReason }
            }
            let details = exit?.auditDetails
                ?? "{\"error\":\(FlatJSONWriter.quoted("exit status unknown: " + (exitProblem ?? "no record")))}"
            appender?.record(kind: "exit", details: details)
        }
        let failure = appender?.finish()
        try writeReport(final, cgroups: cgroups, dnsSuspicious: proxy?.dnsSuspiciousCount(),
                        egressQuotaSpent: proxy?.quotaWasSpent() ?? false,
                        exit: exit, exitUnknown: exit == nil ? exitProblem : nil,
                        exitRecorded: configuration.recordExit && appender != nil && failure == nil,
                        egressDropped: appender?.dropped ?? 0, auditFailure: failure)
        if final == .abandoned { Abandonment.removeSandbox(stateDirectory: configuration.stateDirectory) }
        return final
    }

    public static let egressAuditName = "egress.jsonl"

    /// The egress proxy, when the sandbox has an allowlist; nil otherwise (no thread,
    /// no NIO memory). It lives until this process exits, which is when the init has.
    func startEgressProxy(appender: AuditAppender? = nil) throws -> EgressProxy? {
        guard let allow = configuration.egressAllow else { return nil }
        let allowlist: Allowlist
        do { allowlist = try Allowlist(annotation: allow) } catch { throw WardenError("\(error)") }
        var hosts = HostsMapping()
        if let path = configuration.egressHosts {
            let bytes = try FileDescriptor.open(path, O_RDONLY).readAll(path: path)
            hosts = HostsMapping(text: String(decoding: bytes, as: UTF8.self))
        }
        var proxy = EgressProxy.Configuration(
            allowlist: allowlist, hosts: hosts, listener: configuration.egressListener,
            auditPath: configuration.stateDirectory + "/" + Self.egressAuditName,
            maximumConnections: configuration.egressMaximumConnections ?? 256,
            maximumBytes: configuration.egressMaximumBytes,
            idleTimeout: configuration.egressIdleTimeout ?? 300, socksListener: configuration.socksListener,
            captureListeners: configuration.captureListeners, dnsSocket: configuration.dnsSocket)
        proxy.auditAppender = appender
        return try EgressProxy.start(proxy)
    }

    func writeReport(_ reason: Reason, cgroups: CgroupManager, dnsSuspicious: Int? = nil, egressQuotaSpent: Bool = false,
                     exit: ExitStatus? = nil, exitUnknown: String? = nil, exitRecorded: Bool = false,
                     egressDropped: Int = 0, auditFailure: String? = nil) throws {
        var text = "{\"reason\":\"\(reason.rawValue)\""
        text += ",\"oomKills\":\(cgroups.oomEventCount())"
        text += ",\"pidsLimitHits\":\(cgroups.pidsLimitHits())"
        if let t = configuration.timeoutSeconds { text += ",\"timeoutMilliseconds\":\(UInt64(t * 1000))" }
        // DNS queries refused as exfiltration-shaped (transparent egress only).
        if let n = dnsSuspicious { text += ",\"dnsSuspicious\":\(n)" }
        // The byte quota (network.maxBytes) spent: a limit hit (connections were cut).
        if egressQuotaSpent { text += ",\"egressQuotaSpent\":true" }
        // The init's exit as taskstats told it (--record-exit), and whether the `exit`
        // audit record is written: `delete` writes it only when the warden did not.
        switch exit {
        case .exited(let code)?: text += ",\"exitCode\":\(code)"
        case .signaled(let signal)?: text += ",\"exitCode\":\(128 + signal),\"exitSignal\":\(signal)"
        case nil: break
        }
        if let exitUnknown { text += ",\"exitUnknown\":\(FlatJSONWriter.quoted(exitUnknown))" }
        if exitRecorded { text += ",\"exitRecorded\":true" }
        if egressDropped > 0 { text += ",\"egressDropped\":\(egressDropped)" }
        if let auditFailure { text += ",\"auditFailure\":\(FlatJSONWriter.quoted(auditFailure))" }
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
