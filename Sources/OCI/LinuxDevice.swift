// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Devices").

/// A device node created in the container (`linux.devices[]`).
public struct LinuxDevice: Codable, Sendable, Equatable {
    /// Where the node goes inside the container; must be absolute.
    public var path: String
    /// "c" (character), "b" (block), "u" (unbuffered character) or "p" (FIFO).
    public var type: String
    /// The major number; required for c, b and u.
    public var major: Int64?
    /// The minor number; required for c, b and u.
    public var minor: Int64?
    /// The permission bits of the node.
    public var fileMode: UInt32?
    /// The node's owner, in the container's user namespace.
    public var uid: UInt32?
    /// The node's group, in the container's user namespace.
    public var gid: UInt32?

    /// The accepted values of `type`.
    public static let types = ["c", "b", "u", "p"]

    /// Creates a device.
    public init(path: String, type: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }
}
