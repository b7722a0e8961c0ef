/// What `checkpoint` and `restore` are asked for, in runc's terms (its flag names, its
/// defaults): the native engine hands them to CRIU, the gvisor engine to runsc, and each
/// refuses, naming the flag, what its tool cannot do.
public struct CheckpointOptions: Sendable, Equatable {
    /// `--image-path`: the checkpoint's directory (runc's default: `./checkpoint`).
    public var imagePath: String
    /// `--work-path`: CRIU's logs and work files (runc's default: the image path).
    public var workPath: String?
    /// `--parent-path`: a pre-dump's images, relative to the image path.
    public var parentPath: String?
    /// `--leave-running` (checkpoint): the container keeps running afterwards.
    public var leaveRunning = false
    /// `--pre-dump` (checkpoint): memory only, the container keeps running.
    public var preDump = false
    public var tcpEstablished = false
    public var extUnixSockets = false
    public var shellJob = false
    public var fileLocks = false
    public var autoDedup = false
    public var lazyPages = false
    /// `--manage-cgroups-mode`: soft (runc's default), full or strict; nil when not given.
    public var manageCgroupsMode: String?
    /// `--empty-ns`: namespaces CRIU makes empty instead of restoring (`network`).
    public var emptyNamespaces: [String] = []
    /// `--page-server ADDRESS:PORT` and `--status-fd N` (checkpoint, with lazy pages).
    public var pageServer: String?
    public var statusFd: Int?
    /// runc's global `--criu PATH`; nil: `criu` in PATH.
    public var criu: String?

    public init(imagePath: String) {
        self.imagePath = imagePath
    }

    /// The flags given that a backend which checkpoints by other means than CRIU
    /// cannot honour, by runc's names (gvisor: runsc's checkpoint takes none of them).
    public var criuOnlyFlags: [String] {
        var names: [String] = []
        if parentPath != nil { names.append("--parent-path") }
        if preDump { names.append("--pre-dump") }
        if tcpEstablished { names.append("--tcp-established") }
        if extUnixSockets { names.append("--ext-unix-sk") }
        if autoDedup { names.append("--auto-dedup") }
        if lazyPages { names.append("--lazy-pages") }
        if manageCgroupsMode != nil { names.append("--manage-cgroups-mode") }
        if !emptyNamespaces.isEmpty { names.append("--empty-ns") }
        if pageServer != nil { names.append("--page-server") }
        if statusFd != nil { names.append("--status-fd") }
        return names
    }
}
