import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// User and group identity, and resource limits, of the calling process.
public enum Credentials {
    public static func setGroups(_ gids: [UInt32]) throws {
        try gids.withUnsafeBufferPointer { (buf) throws in
            _ = try syscall("setgroups") { sh_setgroups(buf.count, buf.baseAddress) }
        }
    }

    public static func setGID(_ gid: UInt32) throws {
        try syscall("setresgid") { sh_setresgid(gid, gid, gid) }
    }

    public static func setUID(_ uid: UInt32) throws {
        try syscall("setresuid") { sh_setresuid(uid, uid, uid) }
    }

    public static func setLimit(_ resource: Int32, name: String, soft: UInt64, hard: UInt64) throws {
        try syscall("setrlimit", name) { sh_prlimit(resource, soft, hard) }
    }

    public static func limit(_ resource: Int32) -> (soft: UInt64, hard: UInt64)? {
        var s: UInt64 = 0, h: UInt64 = 0
        return sh_getrlimit(resource, &s, &h) == 0 ? (s, h) : nil
    }
}
