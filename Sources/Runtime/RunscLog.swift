import Linux
import OCI

/// What runsc leaves in files: its JSON log's last error (runsc writes
/// `{"msg":...,"level":"error",...}` before exiting 128) and `runsc wait`'s answer.
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

    /// The exit code in `runsc wait`'s `{"id":...,"exitStatus":N}`: a wait status,
    /// as runsc reports it (exit code in the high byte, signal in the low bits), turned
    /// into the shell's code (128 + signal).
    static func waitExitCode(path: String) -> Int32? {
        guard let bytes = try? Files.read(path, limit: 1 << 16) else { return nil }
        return waitExitCode(text: String(decoding: bytes, as: UTF8.self))
    }

    static func waitExitCode(text: String) -> Int32? {
        guard let o = FlatJSONObject(parsing: Array(text.utf8)), let status = o.int64("exitStatus") else { return nil }
        let raw = Int32(truncatingIfNeeded: status)
        let signal = raw & 0x7f
        if signal == 0 { return (raw >> 8) & 0xff }
        return 128 + signal
    }
}
