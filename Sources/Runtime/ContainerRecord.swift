import OCI

/// What the runtime keeps on disk for one container (`<root>/<id>/state.json`).
///
/// It records facts fixed at create time; the status is never stored but derived
/// from the live process each time (see `Container.status`), as the spec requires.
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
    /// The configuration the container was created from (the bundle may change later;
    /// poststop hooks and later commands use this copy).
    public var config: Spec
    /// Which backend runs it (only `native` so far).
    public var backend: String = "native"

    public var annotations: [String: String]? { config.annotations }
}
