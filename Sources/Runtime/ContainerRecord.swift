import OCI

/// What the runtime keeps on disk for one container (`<root>/<id>/state.json`).
///
/// It records facts fixed at create time and only the parts of the config later
/// commands need (hooks, annotations, whether the container owns its pid namespace),
/// not the whole config: encoding a full spec costs milliseconds on the `run` path.
/// The status is never stored but derived from the live process each time
/// (see `ContainerRuntime.status(of:)`), as the spec requires.
public struct ContainerRecord: Codable, Sendable {
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
    /// The config's hooks, for poststart and poststop, which run after `create`.
    public var hooks: Hooks?
    /// True when the container has a pid namespace of its own: its processes are then
    /// exactly those of that namespace, and they all die with its init.
    public var ownsPidNamespace: Bool
    /// The container's cgroup directories, one per hierarchy, removed on delete.
    public var cgroupPaths: [String] = []
    /// Which backend runs it (only `native` so far).
    public var backend: String = "native"
}
