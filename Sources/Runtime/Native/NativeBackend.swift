import ContainerCore
import Cgroups
import Linux

/// safehouse's own engine: the runtime sets up namespaces, cgroups and seccomp itself
/// and forks the container's init (ContainerInit). Each verb is a file of its own
/// (`NativeBackend+Kill.swift`, ...); the status comes from the init process
/// (`NativeBackend+State.swift`).
struct NativeBackend: ContainerBackend {
    let runtime: ContainerRuntime

    var store: StateStore { runtime.store }
    var log: RuntimeLog { runtime.log }

    /// The manager for a created container's cgroups, with the host's layout (the
    /// paths recorded at create are in the layout's order).
    func cgroupManager(of record: ContainerRecord) -> CgroupManager {
        CgroupManager(recordedPaths: record.cgroupPaths)
    }

    /// Native containers' events are read from their cgroups by the façade.
    func delegateEvents(of record: ContainerRecord, stats: Bool, interval: String) throws -> Bool { false }
}
