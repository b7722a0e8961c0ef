import Linux
import OCI

/// What the runtime keeps on disk for one container (`<root>/<id>/state.json`).
///
/// It records facts fixed at create time and only what later commands need; the
/// status is never stored but derived from the live process each time (see
/// `ContainerRuntime.status(of:)`), as the spec requires. The file is a flat JSON
/// object written and read by hand (`FlatJSON`): every lifecycle command reads it,
/// and JSONDecoder's first use in a process costs more than the rest of `start`.
public struct ContainerRecord: Sendable {
    public var id: String
    /// The container's init process, in the runtime's pid namespace.
    public var pid: Int32
    /// With `pid`, identifies the process; a recycled pid has another start time.
    public var pidStartTime: UInt64
    public var bundle: String
    public var rootfs: String
    /// RFC 3339 time of creation.
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    /// The config's hooks, for poststart and poststop. Not in state.json: read from
    /// the container's copy of its config when `hasHooks` says there are any.
    public var hooks: Hooks?
    public var hasHooks: Bool
    /// True when the container has a pid namespace of its own: its processes are then
    /// exactly those of that namespace, and they all die with its init.
    public var ownsPidNamespace: Bool
    /// The container's cgroup directories, one per hierarchy, removed on delete.
    public var cgroupPaths: [String] = []
    /// Those of `cgroupPaths` the runtime made (the rest existed, empty, at create):
    /// the only ones delete removes. nil in a record written before it was kept.
    public var createdCgroupPaths: [String]?
    /// Which backend runs it (`Backend`): every later command on the id follows it.
    public var backend: Backend = .native
    /// gvisor: the runsc binary and the flags fixed when its sandbox was made
    /// (`RunscFlags.sandboxFlags`), passed to every later runsc command.
    public var runsc: String = ""
    public var runscFlags: [String] = []
    /// Whether the root is an ephemeral overlay (`<dir>/ephemeral`, EphemeralRoot).
    public var ephemeralRoot = false
    /// The sandbox's warden, if one was started (pid and start time, against reuse).
    public var wardenPid: Int32 = 0
    public var wardenStartTime: UInt64 = 0
    /// The network namespace (SharedNetworkEgress's `DEV-INO`) whose egress this
    /// sandbox's warden serves for every sandbox that joined it; its record goes at delete.
    public var servesEgressNamespace: String?

    public init(id: String, pid: Int32, pidStartTime: UInt64, bundle: String, rootfs: String, created: String,
                owner: String, annotations: [String: String]?, hooks: Hooks?, ownsPidNamespace: Bool,
                cgroupPaths: [String] = [], backend: Backend = .native) {
        self.id = id
        self.pid = pid
        self.pidStartTime = pidStartTime
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations
        self.hooks = hooks
        self.hasHooks = HookKind.allCases.contains { !$0.hooks(in: hooks).isEmpty }
        self.ownsPidNamespace = ownsPidNamespace
        self.cgroupPaths = cgroupPaths
        self.backend = backend
    }

    package var encoded: [UInt8] {
        var w = FlatJSONWriter()
        w.add("id", id)
        w.add("pid", Int64(pid))
        w.add("pidStartTime", pidStartTime)
        w.add("bundle", bundle)
        w.add("rootfs", rootfs)
        w.add("created", created)
        w.add("owner", owner)
        if let annotations { w.add("annotations", annotations) }
        w.add("hasHooks", hasHooks)
        w.add("ownsPidNamespace", ownsPidNamespace)
        w.add("cgroupPaths", cgroupPaths)
        if let createdCgroupPaths { w.add("createdCgroupPaths", createdCgroupPaths) }
        w.add("backend", backend.rawValue)
        if !runsc.isEmpty {
            w.add("runsc", runsc)
            w.add("runscFlags", runscFlags)
        }
        if ephemeralRoot { w.add("ephemeralRoot", true) }
        if wardenPid > 0 {
            w.add("wardenPid", Int64(wardenPid))
            w.add("wardenStartTime", wardenStartTime)
        }
        if let servesEgressNamespace { w.add("servesEgressNamespace", servesEgressNamespace) }
        return w.bytes
    }

    package init?(decoding bytes: [UInt8]) {
        guard let o = FlatJSONObject(parsing: bytes),
              let id = o.string("id"), let pid = o.int64("pid"), let start = o.uint64("pidStartTime"),
              let bundle = o.string("bundle"), let rootfs = o.string("rootfs"), let created = o.string("created"),
              let owner = o.string("owner"), let owns = o.bool("ownsPidNamespace"),
              let paths = o.stringArray("cgroupPaths") else { return nil }
        self.init(id: id, pid: Int32(truncatingIfNeeded: pid), pidStartTime: start, bundle: bundle, rootfs: rootfs,
                  created: created, owner: owner, annotations: o.stringMap("annotations"), hooks: nil,
                  ownsPidNamespace: owns, cgroupPaths: paths, backend: o.string("backend").flatMap(Backend.init(rawValue:)) ?? .native)
        self.hasHooks = o.bool("hasHooks") ?? false
        self.ephemeralRoot = o.bool("ephemeralRoot") ?? false
        self.runsc = o.string("runsc") ?? ""
        self.runscFlags = o.stringArray("runscFlags") ?? []
        self.createdCgroupPaths = o.stringArray("createdCgroupPaths")
        self.wardenPid = Int32(truncatingIfNeeded: o.int64("wardenPid") ?? 0)
        self.wardenStartTime = o.uint64("wardenStartTime") ?? 0
        self.servesEgressNamespace = o.string("servesEgressNamespace")
    }

    /// The warden's pid while that process is still the warden.
    public var liveWardenPid: Int32? {
        guard wardenPid > 0, Processes.startTime(of: wardenPid) == wardenStartTime else { return nil }
        return wardenPid
    }
}
