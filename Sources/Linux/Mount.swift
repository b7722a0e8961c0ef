import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// mount(2) flags with readable names.
public struct MountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: SH_MS_RDONLY)
    public static let noSuid = MountFlags(rawValue: SH_MS_NOSUID)
    public static let noDev = MountFlags(rawValue: SH_MS_NODEV)
    public static let noExec = MountFlags(rawValue: SH_MS_NOEXEC)
    public static let synchronous = MountFlags(rawValue: SH_MS_SYNCHRONOUS)
    public static let remount = MountFlags(rawValue: SH_MS_REMOUNT)
    public static let mandatoryLock = MountFlags(rawValue: SH_MS_MANDLOCK)
    public static let dirSync = MountFlags(rawValue: SH_MS_DIRSYNC)
    public static let noSymFollow = MountFlags(rawValue: SH_MS_NOSYMFOLLOW)
    public static let noAtime = MountFlags(rawValue: SH_MS_NOATIME)
    public static let noDirAtime = MountFlags(rawValue: SH_MS_NODIRATIME)
    public static let bind = MountFlags(rawValue: SH_MS_BIND)
    public static let move = MountFlags(rawValue: SH_MS_MOVE)
    public static let recursive = MountFlags(rawValue: SH_MS_REC)
    public static let silent = MountFlags(rawValue: SH_MS_SILENT)
    public static let unbindable = MountFlags(rawValue: SH_MS_UNBINDABLE)
    public static let `private` = MountFlags(rawValue: SH_MS_PRIVATE)
    public static let slave = MountFlags(rawValue: SH_MS_SLAVE)
    public static let shared = MountFlags(rawValue: SH_MS_SHARED)
    public static let relatime = MountFlags(rawValue: SH_MS_RELATIME)
    public static let iVersion = MountFlags(rawValue: SH_MS_I_VERSION)
    public static let strictAtime = MountFlags(rawValue: SH_MS_STRICTATIME)
    public static let lazyTime = MountFlags(rawValue: SH_MS_LAZYTIME)

    /// The flags that change propagation; they must be applied in a call of their own.
    public static let propagation: MountFlags = [.unbindable, .private, .slave, .shared]
}

public enum Mounts {
    public static func mount(source: String, target: String, type: String?, flags: MountFlags, data: String? = nil) throws {
        try syscall("mount", target) { sh_mount(source, target, type, flags.rawValue, data) }
    }

    public static func unmount(_ target: String, detach: Bool = false) throws {
        try syscall("umount", target) { sh_umount2(target, detach ? SH_MNT_DETACH : 0) }
    }

    /// pivot_root(2).
    public static func pivotRoot(_ newRoot: String, _ putOld: String) throws {
        try syscall("pivot_root", newRoot) { sh_pivot_root(newRoot, putOld) }
    }
}
