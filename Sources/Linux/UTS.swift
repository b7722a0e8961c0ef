import CLinux

/// Host and domain names of the calling process's UTS namespace.
public enum UTS {
    public static func setHostname(_ name: String) throws {
        try syscall("sethostname", name) { sh_sethostname(name, name.utf8.count) }
    }
    public static func setDomainname(_ name: String) throws {
        try syscall("setdomainname", name) { sh_setdomainname(name, name.utf8.count) }
    }
}

/// Kernel keyrings.
public enum Keyring {
    /// Joins a new anonymous session keyring named `name`; false where keyrings are
    /// unavailable (ENOSYS) or refused, which runc also tolerates.
    @discardableResult
    public static func joinNewSession(named name: String) -> Bool {
        sh_join_session_keyring(name) >= 0
    }
}

extension Mounts {
    /// The flags a mount currently carries, to repeat in a bind remount.
    public static func currentFlags(of path: String) -> MountFlags {
        let f = sh_mount_flags_of(path)
        return f < 0 ? [] : MountFlags(rawValue: UInt(f))
    }
}
