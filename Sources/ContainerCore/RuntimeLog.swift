import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The `--log` / `--log-format` destination runc users expect.
///
/// JSON lines carry `level`, `msg` and `time`, the three keys containerd's shim reads
/// (it shows the last `error` record's `msg` when a command fails). Text lines follow
/// logrus's `time="..." level=error msg="..."` shape, as runc writes them.
public final class RuntimeLog: @unchecked Sendable {
    public enum Format: String, Sendable { case text, json }
    public enum Level: String, Sendable { case debug, info, warning, error }

    package let fd: Int32
    package let format: Format
    package let debugEnabled: Bool
    private let owned: FileDescriptor?

    /// Logs to `path` (appending), or to stderr when nil.
    public init(path: String?, format: Format, debug: Bool) throws {
        self.format = format
        self.debugEnabled = debug
        if let path, !path.isEmpty {
            let f = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644)
            owned = f
            fd = f.rawValue
        } else {
            owned = nil
            fd = 2
        }
    }

    /// Whether log lines go somewhere other than stderr (then errors also go to stderr).
    public var writesToFile: Bool { owned != nil }

    public func log(_ level: Level, _ message: String) {
        if level == .debug && !debugEnabled { return }
        let line: String
        switch format {
        case .json:
            line = "{\"level\":\"\(level.rawValue)\",\"msg\":\(FlatJSONWriter.quoted(message)),\"time\":\"\(Clock.rfc3339Now())\"}\n"
        case .text:
            line = "time=\"\(Clock.rfc3339Now())\" level=\(level.rawValue) msg=\(FlatJSONWriter.quoted(message))\n"
        }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    public func warning(_ message: String) { log(.warning, message) }
    public func debug(_ message: String) { log(.debug, message) }
}
