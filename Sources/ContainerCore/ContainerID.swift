/// Container ids as runc accepts them: letters, digits and `_ + - .`, not `.` or `..`,
/// at most 1024 characters. Checked before anything touches the file system, so an id
/// can never name a path outside the runtime root.
public enum ContainerID {
    public static func validate(_ id: String) throws {
        if id.isEmpty { throw RuntimeError("container id cannot be empty") }
        if id.utf8.count > 1024 { throw RuntimeError("invalid container id \"\(id.prefix(32))...\": longer than 1024 characters") }
        if id == "." || id == ".." { throw RuntimeError("invalid container id \"\(id)\"") }
        for b in id.utf8 {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                || b == 0x5f || b == 0x2b || b == 0x2d || b == 0x2e
            if !ok { throw RuntimeError("invalid container id \"\(id)\": only letters, digits and _ + - . are allowed") }
        }
    }
}
