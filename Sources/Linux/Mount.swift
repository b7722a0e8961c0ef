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

    /// The per-mount flags mount_setattr(2) can change (its MOUNT_ATTR_* bits), as
    /// MountFlags: read-only, nosuid, nodev, noexec, nodiratime, nosymfollow and the
    /// atime mode.
    public static let attributeFlags: MountFlags = [.readOnly, .noSuid, .noDev, .noExec, .noDirAtime, .noSymFollow,
                                                    .noAtime, .relatime, .strictAtime]

    /// mount_setattr(2): sets `set` and clears `clear` (both within attributeFlags) on
    /// the mount at `path`, and on every mount below it when `recursive`. Unlike a
    /// bind remount it leaves the flags it is not given alone, so no statfs is needed
    /// first, and one call covers a whole tree of mounts. Returns false, changing
    /// nothing, on a kernel without it (before 5.12): the caller remounts instead.
    public static func setAttributes(_ path: String, set: MountFlags, clear: MountFlags = [], recursive: Bool) throws -> Bool {
        var attrSet = Self.attributeBits(set), attrClear = Self.attributeBits(clear)
        // The atime mode is one field (MOUNT_ATTR__ATIME): setting a mode clears it first.
        let atimeMask: UInt64 = 0x70
        if set.contains(.noAtime) { attrClear |= atimeMask; attrSet |= 0x10 }
        else if set.contains(.strictAtime) { attrClear |= atimeMask; attrSet |= 0x20 }
        else if set.contains(.relatime) { attrClear |= atimeMask }
        let rc = sh_mount_setattr(path, recursive ? 1 : 0, attrSet, attrClear)
        if rc == 0 { return true }
        let code = errno
        if code == ENOSYS { return false }
        throw SystemError(call: "mount_setattr", path: path, errno: code)
    }

    /// The MOUNT_ATTR_* bits of the on/off flags (no tuple table: its element type
    /// would be built at run time on every container start).
    static func attributeBits(_ flags: MountFlags) -> UInt64 {
        var bits: UInt64 = 0
        if flags.contains(.readOnly) { bits |= 0x1 }     // MOUNT_ATTR_RDONLY
        if flags.contains(.noSuid) { bits |= 0x2 }       // MOUNT_ATTR_NOSUID
        if flags.contains(.noDev) { bits |= 0x4 }        // MOUNT_ATTR_NODEV
        if flags.contains(.noExec) { bits |= 0x8 }       // MOUNT_ATTR_NOEXEC
        if flags.contains(.noDirAtime) { bits |= 0x80 }  // MOUNT_ATTR_NODIRATIME
        if flags.contains(.noSymFollow) { bits |= 0x20_0000 } // MOUNT_ATTR_NOSYMFOLLOW
        return bits
    }

    /// pivot_root(2).
    public static func pivotRoot(_ newRoot: String, _ putOld: String) throws {
        try syscall("pivot_root", newRoot) { sh_pivot_root(newRoot, putOld) }
    }
}
