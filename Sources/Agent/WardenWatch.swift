import Cgroups
import Linux
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The lifecycle observer of an `agent run`: the caller's, and the warden's death.
/// The warden is this process's child: if it dies while the sandbox runs, the sandbox
/// has lost its deadline (and, with egress, its proxy): stop it, fail closed, and say
/// so in the summary (`wardenDied`).
final class WardenWatch: LifecycleObserver {
    private let inner: (any LifecycleObserver)?
    private let store: StateStore
    private let id: String
    private(set) var wardenDied = false

    init(forwardingTo inner: (any LifecycleObserver)?, store: StateStore, id: String) {
        self.inner = inner
        self.store = store
        self.id = id
    }

    func record(_ annotations: [String: String]?, _ id: String, _ kind: String, _ details: () -> [String: AuditValue]) {
        inner?.record(annotations, id, kind, details)
    }

    func reserve(_ annotations: [String: String]?, _ id: String) {
        inner?.reserve(annotations, id)
    }

    func otherChildExited(_ pid: Int32) {
        inner?.otherChildExited(pid)
        guard let record = try? store.load(id), record.wardenPid == pid else { return }
        wardenDied = true
        try? Files.write(store.directory(of: id) + "/" + ContainerRuntime.stopMarker, "warden died\n",
                         flags: O_WRONLY | O_CREAT | O_TRUNC)
        CgroupManager(recordedPaths: record.cgroupPaths).killAll()
    }
}
