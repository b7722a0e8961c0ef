// Tracks the OCI runtime-spec v1.2.0 (runtime.md "State").

import FoundationEssentials

/// The state of a container, as `state` prints it and hooks read it on stdin.
public struct State: Codable, Sendable, Equatable {
    /// The runtime-spec version of this document.
    public var ociVersion: String = Spec.version
    /// The container id.
    public var id: String
    /// Where the container is in its lifecycle.
    public var status: ContainerStatus
    /// The container process's pid on the host; present while created, running or paused.
    public var pid: Int32?
    /// The absolute path of the bundle.
    public var bundle: String
    /// The annotations of the container's config.
    public var annotations: [String: String]?

    /// The document as JSON, keys sorted so the output is stable; compact unless `pretty`.
    /// Slashes stay unescaped so paths read as paths ("/proc", not "\/proc"), as runc
    /// writes them. (A config and its parts have their own encoder, FastEncoding.swift.)
    public func encodedJSON(pretty: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty
            ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        // The document holds only strings, integers and a string map, which JSONEncoder
        // always encodes; there is no failure to report.
        return (try? encoder.encode(self)) ?? Data()
    }
}

/// The lifecycle states of the runtime spec.
public enum ContainerStatus: String, SpecVocabulary {
    /// `create` is in progress.
    case creating
    /// `create` finished; the process waits for `start`.
    case created
    /// The user process runs.
    case running
    /// The process has exited.
    case stopped
    /// The container is frozen (a runc extension the engines rely on).
    case paused

    public static let vocabularyName = "container status"
}
