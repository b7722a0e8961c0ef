// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Namespaces").

/// A namespace to create, or to join when `path` is set (`linux.namespaces[]`).
public struct LinuxNamespace: Codable, Sendable, Equatable {
    /// The kind of namespace.
    public var type: LinuxNamespaceType
    /// An absolute path to a namespace file (e.g. /proc/<pid>/ns/net) to join.
    public var path: String?

    /// Creates a namespace entry.
    public init(type: LinuxNamespaceType, path: String? = nil) {
        self.type = type
        self.path = path
    }

    /// True when the entry joins an existing namespace rather than creating one.
    public var joinsExisting: Bool {
        !(path ?? "").isEmpty
    }
}

/// The namespace kinds of Linux, spelled as the spec spells them.
public enum LinuxNamespaceType: String, SpecVocabulary {
    /// Process ids.
    case pid
    /// Network devices, stacks, ports.
    case network
    /// Mount points.
    case mount
    /// System V IPC and POSIX message queues.
    case ipc
    /// Hostname and NIS domain name.
    case uts
    /// User and group ids.
    case user
    /// The cgroup root.
    case cgroup
    /// The boottime and monotonic clocks.
    case time

    /// The name of one value in error messages.
    public static let vocabularyName = "namespace type"
}
