import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// The privileged system calls a container's set-up makes, as one seam: mounts, the
/// switch of root, device nodes, namespaces, the files of /proc and /proc/sys, and
/// the signals and waits that undo a failed `create`.
///
/// `HostKernel` makes the calls; a test gives the set-up steps a fake that records
/// them (and fails the one a test names), so that their order, and what a failure
/// undoes, are checked without root. What needs no privilege (opening, walking and
/// making directories inside the rootfs, which a test gives as a temporary directory)
/// is not part of it. Steps take the kernel as a generic parameter, which the
/// compiler specialises for `HostKernel`: the seam costs no call of its own.
public protocol Kernel {
    // MARK: mounts

    /// mount(2); the error names `target`.
    func mount(source: String, target: String, type: String?, flags: MountFlags, data: String?) throws
    /// umount2(2), lazily when `detach`.
    func unmount(_ target: String, detach: Bool) throws
    /// mount_setattr(2) (Mounts.setAttributes): false on a kernel without it.
    func setMountAttributes(_ path: String, set: MountFlags, clear: MountFlags, recursive: Bool) throws -> Bool
    /// The flags the mount at `path` carries (statvfs), to repeat in a remount.
    func mountFlags(of path: String) -> MountFlags
    /// pivot_root(2).
    func pivotRoot(_ newRoot: String, _ putOld: String) throws

    // MARK: root and working directory

    /// chdir(2); the error names `path`.
    func changeDirectory(_ path: String) throws
    /// fchdir(2); the error names `name`.
    func changeDirectory(to directory: FileDescriptor, naming name: String) throws
    /// chroot(2) of `path`; the error names `name` (chroot "." names the rootfs).
    func changeRoot(_ path: String, naming name: String) throws

    // MARK: device nodes

    /// mknodat(2) of `name` in `directory`, with exactly `permissions` (the caller
    /// clears the umask); the error names `path`.
    func makeNode(_ name: String, in directory: FileDescriptor, kind: DeviceNodeKind, permissions: UInt32,
                  major: UInt32, minor: UInt32, path: String) throws
    /// unlinkat(2) of `name` in `directory`, the error ignored (making room for a node).
    func unlink(_ name: String, in directory: FileDescriptor)
    /// fchownat(2) of `name` in `directory`, not following a link; the error names `path`.
    func changeOwner(_ name: String, in directory: FileDescriptor, uid: UInt32, gid: UInt32, path: String) throws

    // MARK: identity and namespaces

    func setHostname(_ name: String) throws
    func setDomainname(_ name: String) throws
    /// unshare(2) of CLONE_NEW* `flags`.
    func unshare(_ flags: Int32) throws
    /// setns(2) into the namespace `fd` holds; the error names `path`.
    func join(_ fd: FileDescriptor, kind: NamespaceKind, path: String) throws

    // MARK: files the kernel serves

    /// Writes `text` to an existing file (/proc/self/oom_score_adj, /proc/sys/...).
    func write(_ path: String, _ text: String) throws
    /// Reads a whole file (/proc/self/mountinfo).
    func read(_ path: String) throws -> [UInt8]

    // MARK: processes

    /// kill(2), the error ignored (the process may be gone already).
    func kill(_ pid: Int32, _ signal: Signal)
    /// waitpid(2) for `pid`, the error ignored.
    func wait(_ pid: Int32)
    /// Waits up to `timeout` seconds for `pid` to exit; false if it has not.
    func waitForExit(_ pid: Int32, timeout: Double) -> Bool
    /// Reaps one exited child, if any (an init re-parented to the runtime).
    func reapAny()
}

/// The kernel itself: each operation is the call the Linux target wraps.
public struct HostKernel: Kernel {
    @inlinable public init() {}

    @inlinable public func mount(source: String, target: String, type: String?, flags: MountFlags, data: String?) throws {
        try Mounts.mount(source: source, target: target, type: type, flags: flags, data: data)
    }

    @inlinable public func unmount(_ target: String, detach: Bool) throws {
        try Mounts.unmount(target, detach: detach)
    }

    @inlinable public func setMountAttributes(_ path: String, set: MountFlags, clear: MountFlags, recursive: Bool) throws -> Bool {
        try Mounts.setAttributes(path, set: set, clear: clear, recursive: recursive)
    }

    @inlinable public func mountFlags(of path: String) -> MountFlags {
        Mounts.currentFlags(of: path)
    }

    @inlinable public func pivotRoot(_ newRoot: String, _ putOld: String) throws {
        try Mounts.pivotRoot(newRoot, putOld)
    }

    public func changeDirectory(_ path: String) throws {
        try syscall("chdir", path) { chdir(path) }
    }

    public func changeDirectory(to directory: FileDescriptor, naming name: String) throws {
        try syscall("fchdir", name) { fchdir(directory.rawValue) }
    }

    public func changeRoot(_ path: String, naming name: String) throws {
        try syscall("chroot", name) { chroot(path) }
    }

    public func makeNode(_ name: String, in directory: FileDescriptor, kind: DeviceNodeKind, permissions: UInt32,
                         major: UInt32, minor: UInt32, path: String) throws {
        try syscall("mknod", path) { sh_mknodat(directory.rawValue, name, kind.modeBits | permissions, major, minor) }
    }

    public func unlink(_ name: String, in directory: FileDescriptor) {
        _ = unlinkat(directory.rawValue, name, 0)
    }

    public func changeOwner(_ name: String, in directory: FileDescriptor, uid: UInt32, gid: UInt32, path: String) throws {
        try syscall("chown", path) { fchownat(directory.rawValue, name, uid, gid, AT_SYMLINK_NOFOLLOW) }
    }

    @inlinable public func setHostname(_ name: String) throws { try UTS.setHostname(name) }

    @inlinable public func setDomainname(_ name: String) throws { try UTS.setDomainname(name) }

    @inlinable public func unshare(_ flags: Int32) throws { try Namespaces.unshare(flags) }

    @inlinable public func join(_ fd: FileDescriptor, kind: NamespaceKind, path: String) throws {
        try Namespaces.join(fd, kind: kind, path: path)
    }

    @inlinable public func write(_ path: String, _ text: String) throws { try Files.write(path, text) }

    @inlinable public func read(_ path: String) throws -> [UInt8] { try Files.read(path) }

    public func kill(_ pid: Int32, _ signal: Signal) { _ = Glibc.kill(pid, signal.rawValue) }

    @inlinable public func wait(_ pid: Int32) { _ = try? Processes.wait(pid) }

    @inlinable public func waitForExit(_ pid: Int32, timeout: Double) -> Bool { Processes.waitForExit(pid, timeout: timeout) }

    @inlinable public func reapAny() { _ = Processes.reapAny() }
}

/// What mknod(2) makes: a character or block device, or a FIFO.
public enum DeviceNodeKind: Sendable {
    case character, block, fifo

    /// The file-type bits of the node's mode (S_IFCHR, S_IFBLK, S_IFIFO).
    public var modeBits: UInt32 {
        switch self {
        case .character: UInt32(S_IFCHR)
        case .block: UInt32(S_IFBLK)
        case .fifo: UInt32(S_IFIFO)
        }
    }
}

extension Kernel {
    /// mount(2) without data.
    @inlinable public func mount(source: String, target: String, type: String?, flags: MountFlags) throws {
        try mount(source: source, target: target, type: type, flags: flags, data: nil)
    }

    /// umount2(2) without MNT_DETACH.
    @inlinable public func unmount(_ target: String) throws { try unmount(target, detach: false) }

    /// mount_setattr(2), clearing nothing.
    @inlinable public func setMountAttributes(_ path: String, set: MountFlags, recursive: Bool) throws -> Bool {
        try setMountAttributes(path, set: set, clear: [], recursive: recursive)
    }
}
