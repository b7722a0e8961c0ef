import ContainerCore
import Sandbox
import Linux
#if canImport(Glibc)
import Glibc
#endif

extension ContainerRuntime {
    /// Starts the warden of a sandbox, on either backend, and puts it in `record`.
    /// `pid` is what it watches (the init; on gvisor runsc's sandbox process). With an
    /// allowlist the egress sockets come from `openSockets` (the listeners in the
    /// sandbox's network namespace; on gvisor, in the namespace linked to it) and go to
    /// the warden; our copies are closed as soon as it has them. Unless this process
    /// waits for the init (`callerReapsInit`), the warden records its exit; when it
    /// does, the warden watches this process too (its owner).
    func startWarden(_ treatment: SandboxTreatment, watching pid: Int32, callerReapsInit: Bool, record: inout ContainerRecord,
                     openSockets: () throws -> EgressListener.Sockets) throws -> WardenLauncher.Started {
        guard let warden = WardenLauncher.executable(configured: treatment.warden) else {
            throw RuntimeError("sandbox: no safehouse-warden next to this executable")
        }
        var egress: WardenLauncher.Egress?
        if let allow = treatment.networkAllow, !allow.isEmpty {
            egress = WardenLauncher.Egress(sockets: try openSockets(), allow: allow,
                                           hostsFile: treatment.egressHosts,
                                           maxConnections: treatment.egressMaxConnections,
                                           maxBytes: treatment.egressMaxBytes, idleTimeout: treatment.egressIdleTimeout)
        }
        let started = try WardenLauncher.spawn(warden, stateDirectory: store.directory(of: record.id), initPid: pid,
                                               timeoutSeconds: treatment.timeoutSeconds, cgroupPaths: record.cgroupPaths,
                                               egress: egress, audit: treatment.wardenAudit(id: record.id, callerReapsInit: callerReapsInit),
                                               owner: callerReapsInit ? getpid() : nil)
        egress?.sockets.close()
        record.wardenPid = started.pid
        record.wardenStartTime = Processes.startTime(of: started.pid) ?? 0
        return started
    }
}
