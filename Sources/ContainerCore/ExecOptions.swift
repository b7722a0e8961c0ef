import OCI

/// What `exec` is told: the process (from --process or built from the container's own
/// process and the flags), and how to attach to it.
public struct ExecOptions: Sendable {
    /// A process.json (the OCI `process` object), as containerd's shim passes it.
    public var processFile: String?
    /// The command when no process file is given.
    public var args: [String] = []
    public var tty = false
    public var consoleSocket: String?
    public var cwd: String?
    public var env: [String] = []
    /// "uid[:gid]".
    public var user: String?
    public var additionalGids: [UInt32] = []
    public var caps: [String] = []
    public var noNewPrivileges = false
    public var detach = false
    public var pidFile: String?
    public var preserveFds = 0
    /// --cgroup: "[controller[,controller]:]path" sub-cgroups of the container's own.
    public var subCgroups: [String] = []
    /// --ignore-paused: exec into a paused container (the process starts frozen).
    public var ignorePaused = false

    public init() {}
}
