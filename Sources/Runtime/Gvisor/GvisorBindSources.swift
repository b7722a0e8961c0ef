import ContainerCore
import CLinux
import Linux
import OCI
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// Bind sources of a gvisor container with a user namespace that its root could not
/// reach by path. runsc's gofer runs in that namespace, as the container's root (a
/// host id that cannot enter a directory only host root may: anything under /root, a
/// `mktemp -d`), and opens every source by path. Each such source is cloned here, on
/// the host side, and attached at `<directory>/N`, and the spec runsc gets names that
/// path instead: the gofer reaches it through a directory of root's that only the
/// container root's group may enter (0710), so no other host user gains a path to the
/// caller's private directory. The rule for which sources is the native backend's
/// (HostBindSources.reachableByAnyone): every other source stays as the spec says.
enum GvisorBindSources {
    /// Where the staged sources of every gvisor container live (0711: reachable, not listable).
    static let parent = "/run/safehouse-gvisor-binds"

    /// The container's own directory: its id and its root's tag, as the ephemeral
    /// root's (EphemeralRoot.directory), so that `delete --force` finds it without state.
    static func directory(root: String, id: String) -> String {
        let ephemeral = EphemeralRoot.directory(root: root, id: id)
        return parent + "/" + String(ephemeral.split(separator: "/").last ?? Substring(id))
    }

    /// `spec` with each unreachable bind source replaced by its staged path, or nil
    /// when no source needs it (no user namespace of its own, or every source
    /// reachable). On a failure what was staged is removed again.
    static func stage(_ spec: Spec, bundle: String, root: String, id: String) throws -> Spec? {
        guard let linux = spec.linux,
              let userNamespace = linux.namespaces?.first(where: { $0.type == .user }),
              !userNamespace.joinsExisting,
              let rootGID = linux.gidMappings?.first(where: { $0.containerID == 0 })?.hostID,
              var mounts = spec.mounts else { return nil }
        let dir = directory(root: root, id: id)
        var staged = false
        do {
            for (index, mount) in mounts.enumerated() {
                let options = MountOptions(mount.options ?? [])
                guard options.isBind || mount.type == "bind", var source = mount.source, !source.isEmpty else { continue }
                if !source.hasPrefix("/") { source = bundle + "/" + source }
                guard !HostBindSources.reachableByAnyone(source) else { continue }
                if !staged {
                    try makeDirectory(dir, groupID: rootGID)
                    staged = true
                }
                let target = dir + "/\(index)"
                try attach(source, recursive: options.flags.contains(.recursive), at: target, field: "mounts[\(index)].source")
                mounts[index].source = target
            }
        } catch {
            remove(root: root, id: id)
            throw error
        }
        guard staged else { return nil }
        var changed = spec
        changed.mounts = mounts
        return changed
    }

    /// The parent (0711) and the container's directory: root's, enterable by the
    /// container root's host group only.
    private static func makeDirectory(_ dir: String, groupID: UInt32) throws {
        if Glibc.mkdir(parent, 0o711) != 0, errno != EEXIST { throw SystemError(call: "mkdir", path: parent, errno: errno) }
        try syscall("mkdir", dir) { Glibc.mkdir(dir, 0o700) }
        try syscall("chown", dir) { Glibc.chown(dir, 0, groupID) }
        try syscall("chmod", dir) { Glibc.chmod(dir, 0o710) }
    }

    /// A clone of `source`'s tree (open_tree: taken by the host's root, which can reach
    /// it) attached at `target`, a mount point of the source's kind.
    private static func attach(_ source: String, recursive: Bool, at target: String, field: String) throws {
        let tree = sh_open_tree_at(AT_FDCWD, source, recursive ? 1 : 0)
        guard tree >= 0 else { throw RuntimeError("\(field): \(SystemError(call: "open_tree", path: source, errno: errno))") }
        let treeFD = FileDescriptor(adopting: tree)
        var st = Glibc.stat()
        try syscall("fstat", source) { fstat(treeFD.rawValue, &st) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            try syscall("mkdir", target) { Glibc.mkdir(target, 0o700) }
        } else {
            let fd = try syscall("create", target) { Glibc.open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            Glibc.close(fd)
        }
        let point = try FileDescriptor.open(target, SH_O_PATH | O_NOFOLLOW)
        try syscall("move_mount", target) { sh_move_mount_fd(treeFD.rawValue, point.rawValue) }
    }

    /// Unmounts and removes the container's staged sources; nothing when there are
    /// none. Each entry is unmounted until the kernel says nothing is mounted there,
    /// then removed: never a walk into a source still mounted.
    static func remove(root: String, id: String) {
        let dir = directory(root: root, id: id)
        guard Files.exists(dir) else { return }
        for name in (try? Files.list(dir)) ?? [] {
            let entry = dir + "/" + name
            while (try? Mounts.unmount(entry, detach: true)) != nil {}
            if Glibc.rmdir(entry) != 0 { _ = Glibc.unlink(entry) }
        }
        _ = Glibc.rmdir(dir)
    }
}
