import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// The eight Linux namespace kinds, with their clone flag and /proc/PID/ns name.
public enum NamespaceKind: String, CaseIterable, Sendable {
    case user, mount, pid, network, ipc, uts, cgroup, time

    public var cloneFlag: Int32 {
        switch self {
        case .user: return SH_CLONE_NEWUSER
        case .mount: return SH_CLONE_NEWNS
        case .pid: return SH_CLONE_NEWPID
        case .network: return SH_CLONE_NEWNET
        case .ipc: return SH_CLONE_NEWIPC
        case .uts: return SH_CLONE_NEWUTS
        case .cgroup: return SH_CLONE_NEWCGROUP
        case .time: return SH_CLONE_NEWTIME
        }
    }

    /// The name under /proc/PID/ns/.
    public var procName: String {
        switch self {
        case .mount: return "mnt"
        case .network: return "net"
        default: return rawValue
        }
    }
}

public enum Namespaces {
    /// unshare(2) for a set of clone flags.
    public static func unshare(_ flags: Int32) throws {
        try syscall("unshare") { sh_unshare(flags) }
    }

    /// A new namespace of `kind`, made by this thread and left at once: the thread
    /// is back in its own, and the new one lives on in the returned descriptor (for a
    /// child to join). For kinds a thread can re-enter (network, uts, ipc, cgroup),
    /// not mount (it also needs an unshared fs) or user.
    public static func makeDetached(_ kind: NamespaceKind) throws -> FileDescriptor {
        let own = try FileDescriptor.open("/proc/thread-self/ns/\(kind.procName)", O_RDONLY)
        defer { own.close() }
        try unshare(kind.cloneFlag)
        // Back on every path: staying would move the rest of the process's work into
        // the new namespace. Failing to return breaks an invariant: trap.
        defer {
            if sh_setns(own.rawValue, kind.cloneFlag) != 0 {
                preconditionFailure("cannot return to our own \(kind.procName) namespace: errno \(errno)")
            }
        }
        return try FileDescriptor.open("/proc/thread-self/ns/\(kind.procName)", O_RDONLY)
    }

    /// setns(2) into the namespace held open by `fd`.
    public static func join(_ fd: FileDescriptor, kind: NamespaceKind, path: String) throws {
        try syscall("setns", path) { sh_setns(fd.rawValue, kind.cloneFlag) }
    }

    /// The inode that identifies a process's namespace, or nil if the process is gone.
    public static func identity(of kind: NamespaceKind, pid: Int32) -> String? {
        try? Files.readLink("/proc/\(pid)/ns/\(kind.procName)")
    }
}
