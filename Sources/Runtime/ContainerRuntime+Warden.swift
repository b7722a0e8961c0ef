import ContainerCore
import Sandbox
import Linux
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRuntime {
    /// Starts the warden of a sandbox, on either backend, and puts it in `record`.
    /// `pid` is what it watches (the init; on gvisor runsc's sandbox process). With an
    /// allowlist the egress sockets come from `openSockets` (the listeners in the
    /// sandbox's network namespace; on gvisor, in the namespace linked to it) and go to
    /// the warden; our copies are closed as soon as it has them. `servesEgress`: whether
    /// it serves egress at all (a sandbox sharing another's namespace does not; the
    /// owner of an engine's namespace does, with an empty allowlist if its policy has
    /// none). Unless this process
    /// waits for the init (`callerReapsInit`), the warden records its exit; when it
    /// does, the warden watches this process too (its owner).
    func startWarden(_ treatment: SandboxConfig, servesEgress: Bool, watching pid: Int32, callerReapsInit: Bool, record: inout ContainerRecord,
                     openSockets: () throws -> EgressListener.Sockets) throws -> WardenLauncher.Started {
        guard let warden = WardenLauncher.executable(configured: treatment.warden) else {
            throw RuntimeError("sandbox: no safehouse-warden next to this executable")
        }
        var configuration = WardenConfiguration(stateDirectory: store.directory(of: record.id), initPid: pid,
                                                timeoutSeconds: treatment.timeoutSeconds, cgroupPaths: record.cgroupPaths)
        configuration.ownerPid = callerReapsInit ? getpid() : nil
        if let log = treatment.auditLog {
            configuration.audit = AuditDestination(path: log, key: treatment.auditKey, id: record.id)
            configuration.recordExit = !callerReapsInit
        }
        // Before any socket is made: a secret without its value fails here.
        let secrets = try treatment.secrets.map { s in
            guard let value = treatment.secretValues[s.name] else { throw RuntimeError("secrets: \(s.name): no value was read") }
            return WardenConfiguration.Secret(name: s.name, placeholder: s.placeholder, hosts: s.hosts, header: s.header, value: value)
        }
        // Our copies of the sockets go once the warden has them (or could not start).
        var sockets: EgressListener.Sockets?
        defer { sockets?.close() }
        if servesEgress {
            let s = try openSockets()
            sockets = s
            configuration.egressListener = s.proxy?.rawValue
            configuration.socksListener = s.socks?.rawValue
            configuration.captureListeners = s.capture.map(\.rawValue)
            configuration.dnsSocket = s.dns?.rawValue
            configuration.egressAllow = treatment.networkAllow.joined(separator: ",")
            configuration.egressHosts = treatment.egressHosts
            configuration.egressMaximumConnections = treatment.egressMaxConnections
            configuration.egressMaximumBytes = treatment.egressMaxBytes
            configuration.egressIdleTimeout = treatment.egressIdleTimeout
            configuration.egressDecider = treatment.egressDecider
            configuration.egressDeciderTimeout = treatment.egressDeciderTimeout
            configuration.egressSecrets = secrets
            configuration.egressCACertificate = treatment.egressCA?.certificatePEM
            configuration.egressCAKey = treatment.egressCA?.keyPEM
            configuration.egressUpstreamCA = treatment.egressUpstreamCA
        }
        let started = try WardenLauncher.spawn(warden, configuration)
        record.wardenPid = started.pid
        record.wardenStartTime = Processes.startTime(of: started.pid) ?? 0
        return started
    }
}
