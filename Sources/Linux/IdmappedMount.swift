import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Idmapped mounts: a tree whose file owners are seen through a user namespace's
/// mapping. The ephemeral root uses one so that the image's files, owned by host
/// root, belong to the sandbox's root (a host uid from an unprivileged range) without
/// copying or chowning the image.
public enum IdmappedMount {
    /// Attaches at `target` a recursive copy of the tree at `source`, its ids mapped
    /// through the user namespace `userNamespace`.
    public static func attach(_ source: String, at target: String, userNamespace: FileDescriptor) throws {
        let tree = FileDescriptor(adopting: try syscall("open_tree", source) { sh_open_tree_clone(source) })
        defer { tree.close() }
        try syscall("mount_setattr(MOUNT_ATTR_IDMAP)", source) { sh_mount_setattr_idmap(tree.rawValue, userNamespace.rawValue) }
        try syscall("move_mount", target) { sh_move_mount_to(tree.rawValue, target) }
    }
}

/// A user namespace that exists only to carry a mapping (for idmapped mounts): a
/// child unshares it, the parent writes the maps and opens it, the child exits. The
/// namespace lives as long as the returned descriptor.
public enum MappingNamespace {
    /// `uidMap`/`gidMap` in /proc/PID/uid_map form ("0 100000 65536\n").
    public static func make(uidMap: String, gidMap: String) throws -> FileDescriptor {
        let (parentReads, childWrites) = try FileDescriptor.pipe()
        let (childReads, parentWrites) = try FileDescriptor.pipe()
        let pid = try Processes.fork()
        if pid == 0 {
            // Only plain system calls here: unshare, say so, wait to be told to go.
            var byte: UInt8 = 0
            // Drop the parent's ends, or the read below never sees end-of-file.
            _ = Glibc.close(parentReads.rawValue)
            _ = Glibc.close(parentWrites.rawValue)
            if sh_unshare(SH_CLONE_NEWUSER) != 0 { _exit(1) }
            if Glibc.write(childWrites.rawValue, &byte, 1) != 1 { _exit(2) }
            _ = Glibc.read(childReads.rawValue, &byte, 1)
            _exit(0)
        }
        childWrites.close()
        childReads.close()
        defer {
            parentWrites.close() // the child's read returns: it exits
            _ = try? Processes.wait(pid)
            parentReads.close()
        }
        guard try parentReads.read(upTo: 1).count == 1 else {
            throw SystemError(call: "unshare(CLONE_NEWUSER)", path: nil, errno: EPERM)
        }
        try Files.write("/proc/\(pid)/uid_map", uidMap)
        try Files.write("/proc/\(pid)/setgroups", "deny")
        try Files.write("/proc/\(pid)/gid_map", gidMap)
        return try FileDescriptor.open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
    }
}
