// Tracks the OCI runtime-spec v1.2.0 (config.md "Mounts").

/// One mount on top of the root filesystem (`mounts[]`).
public struct Mount: Codable, Sendable, Equatable {
    /// Where the mount goes inside the container.
    public var destination: String
    /// The filesystem type ("proc", "tmpfs", "bind", ...).
    public var type: String?
    /// A device, a host path for bind mounts, or a dummy name.
    public var source: String?
    /// fstab-style options ("nosuid", "ro", "rbind", "mode=755", "idmap", ...).
    public var options: [String]?
    /// User id mappings for an idmapped mount.
    public var uidMappings: [LinuxIDMapping]?
    /// Group id mappings for an idmapped mount.
    public var gidMappings: [LinuxIDMapping]?

    /// Creates a mount.
    public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil, uidMappings: [LinuxIDMapping]? = nil, gidMappings: [LinuxIDMapping]? = nil) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
    }
}

/// A range of ids mapped into a user namespace or an idmapped mount.
public struct LinuxIDMapping: Codable, Sendable, Equatable {
    /// The first id inside the container.
    public var containerID: UInt32
    /// The first id on the host that `containerID` maps to.
    public var hostID: UInt32
    /// How many consecutive ids are mapped; must be positive.
    public var size: UInt32

    /// Creates a mapping.
    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }
}
