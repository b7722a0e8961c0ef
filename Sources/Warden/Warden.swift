import Cgroups
import CLinux
import Egress
import EgressCA
import Linux
import OCI
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// The keeper of one agent sandbox, from create until its init exits.
///
/// Per sandbox rather than a shared daemon: no tenant can reach
/// another's policy through it, nothing has to run before the first sandbox, and its
/// cost is one small process. It sleeps in poll(2) on two descriptors, a pidfd of the
/// container's init and a signalfd, so it uses no CPU while the sandbox runs:
///
/// - SIGUSR1 (sent by `start`) starts the wall-clock deadline; when it passes, every
///   process in the sandbox's cgroups gets SIGKILL (not only the init).
/// - SIGTERM, SIGINT, SIGHUP: the emergency stop, the same cgroup-wide SIGKILL.
/// - The init's exit ends the watch: the report (WardenReport: why it ended, OOM
///   kills, forks refused at the pids limit) goes to `<state dir>/warden.json`, then
///   it exits.
/// - With an audit log, every egress decision goes to it as it is made
///   (AuditAppender); with `recordExit` (the runtime is not the init's
///   parent: an engine ran the sandbox detached) so does the init's exit status, which
///   the warden learns through taskstats (ExitStatusWatch).
public struct Warden {
    /// What the runtime told it (one JSON document, read by safehouse-warden's main).
    public let configuration: WardenConfiguration
    public init(_ configuration: WardenConfiguration) { self.configuration = configuration }

    /// Watches until the init exits and writes the report. Returns the reason.
    @discardableResult
    public func run() throws -> WardenReport.Reason {
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
        var reason: WardenReport.Reason?
        var deadline: Double?
        // The first reason to stop is the one reported; every process of the sandbox is killed.
        func stop(_ why: WardenReport.Reason) {
            reason = reason ?? why
            deadline = nil
            cgroups.killAll()
        }
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
                let now = MonotonicClock.seconds()
                if let r = watchRearm, r <= now { watchRearm = nil }
                let watched = watchRearm == nil ? exitWatch?.socket.rawValue ?? -1 : -1
                if ownerGone {
                    ownerGone = false
                    stop(.abandoned)
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
                if let d = deadline, MonotonicClock.seconds() >= d {
                    stop(.timeout)
                    continue
                }
                if n == 0 { continue }
                // Other tasks' exits: read and dropped, so the queue never overflows.
                if fds[2].revents != 0 {
                    exitWatch?.drain()
                    watchRearm = MonotonicClock.seconds() + ExitStatusWatch.drainInterval
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
                        if deadline == nil, reason == nil, let t = configuration.timeoutSeconds { deadline = MonotonicClock.seconds() + t }
                    case SIGTERM, SIGINT, SIGHUP: stop(.stopped)
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
        var report = WardenReport(reason: final)
        report.oomKills = cgroups.oomEventCount()
        report.pidsLimitHits = cgroups.pidsLimitHits()
        if let t = configuration.timeoutSeconds { report.timeoutMilliseconds = UInt64(t * 1000) }
        report.dnsSuspicious = proxy?.dnsSuspiciousCount()
        report.egressQuotaSpent = proxy?.quotaWasSpent() ?? false
        report.exit = exit
        report.exitUnknown = exit == nil ? exitProblem : nil
        report.exitRecorded = configuration.recordExit && appender != nil && failure == nil
        report.egressDropped = appender?.dropped ?? 0
        report.auditFailure = failure
        try report.write(stateDirectory: configuration.stateDirectory)
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
        proxy.controlPath = configuration.stateDirectory + "/" + EgressControl.socketName
        if let decider = configuration.egressDecider {
            do { proxy.decider = try DeciderTarget(decider) } catch { throw WardenError("egressDecider: \(error)") }
        }
        proxy.deciderTimeout = configuration.egressDeciderTimeout ?? 2
        proxy.secrets = try configuration.egressSecrets.map { s in
            do {
                return EgressSecret(name: s.name, placeholder: s.placeholder, hosts: try s.hosts.map(AllowRule.init), header: s.header,
                                    value: Array(s.value.utf8))
            } catch { throw WardenError("egressSecrets: \(s.name): \(error)") }
        }
        if let certificate = configuration.egressCACertificate, let key = configuration.egressCAKey {
            do {
                proxy.termination = EgressTermination.Settings(ca: try EgressCA(certificatePEM: certificate, privateKeyPEM: key),
                                                               upstreamCA: configuration.egressUpstreamCA)
            } catch { throw WardenError("egressCACertificate: \(error)") }
        }
        return try EgressProxy.start(proxy)
    }
}

public struct WardenError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
