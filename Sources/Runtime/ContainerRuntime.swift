@_exported import ContainerCore
@_exported import Sandbox
import Linux
import OCI

/// The runtime's library face: one instance per invocation, bound to a root. A verb
/// on an existing container finds it and hands it to the backend its record names
/// (`backend(for:)`; NativeBackend, GvisorBackend); `create` and `run` pick the
/// backend of a new one (`selectBackend(for:)`). Re-exports ContainerCore, whose
/// record, store and errors its callers name.
public final class ContainerRuntime {
    public let store: StateStore
    public let log: RuntimeLog
    /// --systemd-cgroup: cgroupsPath is "slice:prefix:name" (SystemdCgroupPath).
    public let systemdCgroup: Bool
    /// What `create` does beyond the spec for a sandbox: the caller (the CLI, through
    /// the Agent layer) reads the policy annotation and answers; nil for a plain
    /// container. The runtime itself knows nothing of policies.
    public var sandboxes: (any SandboxProvider)?
    /// Where lifecycle events go (LifecycleObserver): the CLI records a sandbox's in
    /// its audit log. Nil: nothing is recorded.
    public var observer: (any LifecycleObserver)?

    /// `--backend`: the backend of containers this invocation creates (Backend.select).
    public var backendFlag: Backend?
    /// This invocation's `--log`, `--log-format` and `--debug`, passed on to runsc
    /// (RunscFlags.invocationFlags).
    public var logPath: String?
    public var logFormatName = "text"

    public init(root: String, log: RuntimeLog, systemdCgroup: Bool = false) {
        self.store = StateStore(root: root)
        self.log = log
        self.systemdCgroup = systemdCgroup
    }
}

/// What `create` (and `run`) are told beyond the bundle's config.
public struct CreateOptions: Sendable, Equatable {
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    public var noPivot: Bool
    public var noNewKeyring: Bool
    public var preserveFds: Int
    /// Set by foreground `run`, which reaps the init itself and records its exit: a
    /// sandbox's warden then need not watch for it (WardenLauncher, ExitStatusWatch).
    var callerReapsInit = false
    /// Bind sources the caller holds open, by the source path the spec names: the
    /// mount is made from the descriptor, not the path (HostBindSources). The
    /// descriptors stay the caller's; they must be open until create returns.
    public var bindSourceDescriptors: [String: Int32] = [:]

    public init(bundle: String, pidFile: String? = nil, consoleSocket: String? = nil,
                noPivot: Bool = false, noNewKeyring: Bool = false, preserveFds: Int = 0) {
        self.bundle = bundle
        self.pidFile = pidFile
        self.consoleSocket = consoleSocket
        self.noPivot = noPivot
        self.noNewKeyring = noNewKeyring
        self.preserveFds = preserveFds
    }
}
