// Tracks the OCI runtime-spec v1.2.0 (config.md).

/// The container configuration: the whole of a bundle's `config.json`.
///
/// Only the POSIX and Linux parts of the spec are modelled; the Windows, Solaris, VM and
/// z/OS sections are ignored when present, as the spec requires of unknown properties.
public struct Spec: Codable, Sendable, Equatable {
    /// The runtime-spec version the bundle complies with (SemVer, e.g. "1.2.0").
    public var ociVersion: String
    /// The container process. Required by `create`; optional in the document.
    public var process: Process?
    /// The container's root filesystem.
    public var root: Root?
    /// The hostname inside the container; needs a private UTS namespace.
    public var hostname: String?
    /// The NIS domain name inside the container; needs a private UTS namespace.
    public var domainname: String?
    /// Mounts made on top of the root filesystem, in order.
    public var mounts: [Mount]?
    /// Lifecycle hooks.
    public var hooks: Hooks?
    /// Arbitrary metadata; keys must not be empty.
    public var annotations: [String: String]?
    /// The Linux-specific configuration (the spec's `linux` object).
    public var linux: LinuxConfig?

    /// The newest runtime-spec version this package models.
    public static let version = "1.2.0"

    /// Creates a configuration; everything but the version is optional.
    public init(
        ociVersion: String = Spec.version,
        process: Process? = nil,
        root: Root? = nil,
        hostname: String? = nil,
        domainname: String? = nil,
        mounts: [Mount]? = nil,
        hooks: Hooks? = nil,
        annotations: [String: String]? = nil,
        linux: LinuxConfig? = nil
    ) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }
}

/// The container's root filesystem (`root`).
public struct Root: Codable, Sendable, Equatable {
    /// The root filesystem's path, absolute or relative to the bundle.
    public var path: String
    /// Make the root filesystem read-only before the process runs.
    public var readonly: Bool?

    /// Creates a root.
    public init(path: String, readonly: Bool? = nil) {
        self.path = path
        self.readonly = readonly
    }
}
