import CLinux

/// The prctl(2) settings the runtime needs, by name.
public enum ProcessControl {
    public static func setNoNewPrivileges() throws {
        try syscall("prctl PR_SET_NO_NEW_PRIVS") { sh_prctl(38, 1, 0, 0, 0) }
    }

    /// Orphaned descendants are re-parented to this process, so `run` can reap a
    /// container init whose intermediate parent has exited.
    public static func becomeChildSubreaper() throws {
        try syscall("prctl PR_SET_CHILD_SUBREAPER") { sh_prctl(36, 1, 0, 0, 0) }
    }

    public static func setDumpable(_ on: Bool) throws {
        try syscall("prctl PR_SET_DUMPABLE") { sh_prctl(4, on ? 1 : 0, 0, 0, 0) }
    }
}
