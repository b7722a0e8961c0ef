import Glibc
@testable import Linux
@testable import Runtime

/// A Kernel that makes no privileged call: it writes each call down as one line
/// ("mount proc proc $ROOTFS/proc nosuid,noexec,nodev"), and fails the first call
/// whose line starts with `failing`. Mount targets given as /proc/self/fd/N (a
/// MountTarget) are written as the path they name, the rootfs spelled $ROOTFS.
///
/// What needs no privilege stays real: the set-up opens, walks and makes directories
/// in the rootfs, which a test gives as a temporary directory.
final class RecordingKernel: ContainerTeardown {
    /// The real path of the test's rootfs, written as $ROOTFS.
    let rootfs: String
    private(set) var calls: [String] = []
    /// A call whose line starts with this fails (once) with `failingErrno`.
    var failing: String?
    var failingErrno: Int32 = EPERM
    /// What read("/proc/self/mountinfo") returns.
    var mountinfo = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
    /// Whether mount_setattr is there (setMountAttributes returns true).
    var hasMountSetattr = true
    /// The pids waitForExit finds exited.
    var exitingPids: Set<Int32> = []

    init(rootfs: String = "/nonexistent") {
        self.rootfs = rootfs
    }

    /// Writes down something the test's own callbacks did, among the calls.
    func note(_ text: String) { calls.append("note " + text) }

    /// The calls, without those the test does not look at (chown after each mknod).
    func calls(without prefixes: String...) -> [String] {
        calls.filter { line in !prefixes.contains { line.hasPrefix($0) } }
    }

    private func record(_ line: String, call: String, path: String?) throws {
        if let failing, line.hasPrefix(failing) {
            self.failing = nil
            calls.append(line + " FAILED")
            throw SystemError(call: call, path: path, errno: failingErrno)
        }
        calls.append(line)
    }

    /// A path as the test reads it: /proc/self/fd/N as the file it names, the rootfs as $ROOTFS.
    func name(_ path: String) -> String {
        var path = path
        if path.hasPrefix("/proc/self/fd/"), let target = try? Files.readLink(path) { path = target }
        if path == rootfs || path.hasPrefix(rootfs + "/") { path = "$ROOTFS" + path.dropFirst(rootfs.count) }
        return path
    }

    static let flagNames: [(MountFlags, String)] = [
        (.readOnly, "ro"), (.noSuid, "nosuid"), (.noDev, "nodev"), (.noExec, "noexec"), (.relatime, "relatime"),
        (.noAtime, "noatime"), (.strictAtime, "strictatime"), (.bind, "bind"), (.move, "move"), (.remount, "remount"),
        (.private, "private"), (.slave, "slave"), (.shared, "shared"), (.unbindable, "unbindable"), (.recursive, "rec"),
    ]

    static func describe(_ flags: MountFlags) -> String {
        let names = flagNames.filter { flags.contains($0.0) }.map(\.1)
        return names.isEmpty ? "-" : names.joined(separator: ",")
    }

    // MARK: Kernel

    func mount(source: String, target: String, type: String?, flags: MountFlags, data: String?) throws {
        var line = "mount \(type ?? "-") \(source.isEmpty ? "-" : name(source)) \(name(target)) \(Self.describe(flags))"
        if let data { line += " " + data }
        try record(line, call: "mount", path: target)
    }

    func unmount(_ target: String, detach: Bool) throws {
        try record("umount \(name(target))\(detach ? " detach" : "")", call: "umount", path: target)
    }

    func setMountAttributes(_ path: String, set: MountFlags, clear: MountFlags, recursive: Bool) throws -> Bool {
        guard hasMountSetattr else { return false }
        try record("mount_setattr \(name(path)) set \(Self.describe(set)) clear \(Self.describe(clear))\(recursive ? " rec" : "")",
                   call: "mount_setattr", path: path)
        return true
    }

    func mountFlags(of path: String) -> MountFlags { [.noSuid] }

    func pivotRoot(_ newRoot: String, _ putOld: String) throws {
        try record("pivot_root \(newRoot) \(putOld)", call: "pivot_root", path: newRoot)
    }

    func changeDirectory(_ path: String) throws {
        try record("chdir \(name(path))", call: "chdir", path: path)
    }

    func changeDirectory(to directory: FileDescriptor, naming path: String) throws {
        try record("fchdir \(name("/proc/self/fd/\(directory.rawValue)"))", call: "fchdir", path: path)
    }

    func changeRoot(_ path: String, naming name: String) throws {
        try record("chroot \(self.name(path))", call: "chroot", path: name)
    }

    func makeNode(_ name: String, in directory: FileDescriptor, kind: DeviceNodeKind, permissions: UInt32,
                  major: UInt32, minor: UInt32, path: String) throws {
        let dir = self.name("/proc/self/fd/\(directory.rawValue)")
        let mode = String(kind.modeBits | permissions, radix: 8)
        try record("mknod \(dir)/\(name) \(mode) \(major):\(minor)", call: "mknod", path: path)
    }

    func unlink(_ name: String, in directory: FileDescriptor) {
        calls.append("unlink \(self.name("/proc/self/fd/\(directory.rawValue)"))/\(name)")
    }

    func changeOwner(_ name: String, in directory: FileDescriptor, uid: UInt32, gid: UInt32, path: String) throws {
        let dir = self.name("/proc/self/fd/\(directory.rawValue)")
        try record("chown \(dir)/\(name) \(uid):\(gid)", call: "chown", path: path)
    }

    func setHostname(_ name: String) throws { try record("sethostname \(name)", call: "sethostname", path: nil) }
    func setDomainname(_ name: String) throws { try record("setdomainname \(name)", call: "setdomainname", path: nil) }
    func unshare(_ flags: Int32) throws { try record("unshare \(flags)", call: "unshare", path: nil) }

    func join(_ fd: FileDescriptor, kind: NamespaceKind, path: String) throws {
        try record("setns \(kind.rawValue) \(path)", call: "setns", path: path)
    }

    func write(_ path: String, _ text: String) throws { try record("write \(path) \(text)", call: "write", path: path) }

    func read(_ path: String) throws -> [UInt8] {
        calls.append("read \(path)")
        return path == "/proc/self/mountinfo" ? Array(mountinfo.utf8) : []
    }

    func kill(_ pid: Int32, _ signal: Signal) { calls.append("kill \(pid) \(signal.rawValue)") }
    func wait(_ pid: Int32) { calls.append("wait \(pid)") }

    func waitForExit(_ pid: Int32, timeout: Double) -> Bool {
        calls.append("wait for exit \(pid)")
        return exitingPids.contains(pid)
    }

    func reapAny() { calls.append("reap") }

    // MARK: ContainerTeardown

    func removeCgroups(_ paths: [String]) throws {
        try record("remove cgroups \(paths.joined(separator: " "))", call: "rmdir", path: paths.first)
    }

    func removeEphemeralRoot(_ directory: String) throws {
        try record("remove ephemeral root \(directory)", call: "umount", path: directory)
    }

    func removeTree(_ path: String) throws { try record("remove \(path)", call: "rmdir", path: path) }
}

/// A temporary directory standing for the rootfs, removed at the end.
struct TemporaryRootfs {
    let path: String

    init() throws {
        var template = Array("/tmp/safehouse-rootfs-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError(call: "mkdtemp", errno: errno) }
        // The real path: the kernel names descriptors by it.
        path = RootPropagation.resolved(String(cString: made))
    }

    func remove() { try? Files.removeTree(path) }
}
