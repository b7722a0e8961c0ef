import ContainerCore
import OCI

extension ContainerRuntime {
    /// The engine that runs `record`'s container, from its record: the one choice of
    /// backend every verb on an existing container makes. (A new container's comes
    /// from `selectBackend(for:)`.)
    func backend(for record: ContainerRecord) -> any ContainerBackend {
        switch record.backend {
        case .native: return native
        case .gvisor: return GvisorBackend(runtime: self)
        }
    }

    /// The native backend, for `create` and `run`, which make its containers here.
    var native: NativeBackend { NativeBackend(runtime: self) }

    /// The container's status now, as its backend derives it.
    func status(of record: ContainerRecord) -> ContainerStatus {
        backend(for: record).state(of: record).status
    }

    /// The backend of a new container from `spec` (Backend.select), and the root's
    /// config (for runsc's settings). The config file is read only when neither the
    /// flag nor the annotation decided: one failed open per missing file on the native
    /// hot path.
    func selectBackend(for spec: Spec) throws -> (Backend, BackendConfig?) {
        var config: BackendConfig?
        let backend = try Backend.select(flag: backendFlag, annotations: spec.annotations) {
            config = try BackendConfig.load(root: store.root)
            return config?.backend
        }
        if backend == .gvisor, config == nil { config = try BackendConfig.load(root: store.root) }
        return (backend, config)
    }
}
