// Tracks the OCI runtime-spec v1.2.0 (config.md "POSIX-platform Hooks").

/// The lifecycle hooks (`hooks`), each list run in order.
public struct Hooks: Codable, Sendable, Equatable {
    /// Deprecated by the spec in favour of `createRuntime`, `createContainer` and
    /// `startContainer`, but still run (as runc does): in the runtime namespace, after
    /// the container is created and before pivot_root.
    public var prestart: [Hook]?
    /// In the runtime namespace, after the container's namespaces exist, before pivot_root.
    public var createRuntime: [Hook]?
    /// In the container namespace, after createRuntime hooks, before pivot_root.
    public var createContainer: [Hook]?
    /// In the container namespace, on `start`, just before the user process executes.
    public var startContainer: [Hook]?
    /// In the runtime namespace, after the user process has started.
    public var poststart: [Hook]?
    /// In the runtime namespace, after the container is deleted.
    public var poststop: [Hook]?

    /// Creates hooks.
    public init(prestart: [Hook]? = nil, createRuntime: [Hook]? = nil, createContainer: [Hook]? = nil, startContainer: [Hook]? = nil, poststart: [Hook]? = nil, poststop: [Hook]? = nil) {
        self.prestart = prestart
        self.createRuntime = createRuntime
        self.createContainer = createContainer
        self.startContainer = startContainer
        self.poststart = poststart
        self.poststop = poststop
    }
}

/// One hook: a program run with the container state on its stdin.
public struct Hook: Codable, Sendable, Equatable {
    /// The program; must be absolute.
    public var path: String
    /// Its argv, including argv[0].
    public var args: [String]?
    /// Its environment, `KEY=value` entries.
    public var env: [String]?
    /// Seconds after which the hook is aborted; must be positive.
    public var timeout: Int?

    /// Creates a hook.
    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}
