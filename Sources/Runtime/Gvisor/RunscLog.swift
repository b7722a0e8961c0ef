import ContainerCore
import Linux
import OCI

/// What runsc leaves in files: its JSON log's last error (runsc writes
/// `{"msg":...,"level":"error",...}` before exiting 128).
enum RunscLog {
    /// The `msg` of the last `"level":"error"` record in a runsc JSON log; nil if none.
    static func lastError(path: String) -> String? {
        guard let bytes = try? Files.read(path, limit: 16 << 20) else { return nil }
        return lastError(text: String(decoding: bytes, as: UTF8.self))
    }

    static func lastError(text: String) -> String? {
        for line in text.split(separator: "\n").reversed() {
            guard let o = FlatJSONObject(parsing: Array(line.utf8)), o.string("level") == "error",
                  let msg = o.string("msg") else { continue }
            return msg
        }
        return nil
    }
}
