import ContainerCore
import CLinux
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Bind-mount sources opened by the runtime on the host side, as detached copies of
/// their trees (open_tree(OPEN_TREE_CLONE)), before the init enters a user namespace;
/// the init attaches each from its descriptor (move_mount) instead of looking the
/// source up by path. In the user namespace the init is the container's root, a host
/// id that cannot enter a directory only host root may (anything under /root, a
/// `mktemp -d`): the path would fail, the descriptor does not. runc does the same for
/// such sources. A caller that already holds a source open (`agent run`'s checked
/// /input and /output) names it in CreateOptions.bindSourceDescriptors, and the
/// tree is taken from that descriptor: the directory checked is the one mounted.
struct HostBindSources {
    static let none = HostBindSources(trees: [])

    /// One entry per spec mount, by index; nil where the init mounts by path.
    private let trees: [FileDescriptor?]

    func tree(at index: Int) -> FileDescriptor? { index < trees.count ? trees[index] : nil }

    /// Opens the sources of `mounts` that need it: every bind source the init, in a
    /// user namespace, could not reach by path (reachableByAnyone; a source that cannot
    /// be opened here is left to the init, which names the failure as before), and
    /// every source in `held`.
    /// Only for an init with a mount namespace of its own: one that joins a mount
    /// namespace looks its sources up there.
    static func open(_ mounts: [Mount], bundle: String, held: [String: Int32], userNamespace: Bool) throws -> HostBindSources {
        guard userNamespace || !held.isEmpty else { return .none }
        var trees = [FileDescriptor?](repeating: nil, count: mounts.count)
        for (index, mount) in mounts.enumerated() {
            let options = MountOptions(mount.options ?? [])
            guard options.isBind || mount.type == "bind", var source = mount.source, !source.isEmpty else { continue }
            if !source.hasPrefix("/") { source = bundle + "/" + source }
            let recursive: Int32 = options.flags.contains(.recursive) ? 1 : 0
            if let fd = held[source] {
                let tree = try stage("open mounts[\(index)].source \(source)") {
                    try syscall("open_tree", source) { sh_open_tree_at(fd, "", recursive) }
                }
                trees[index] = FileDescriptor(adopting: tree)
            } else if userNamespace, !Self.reachableByAnyone(source) {
                let tree = sh_open_tree_at(AT_FDCWD, source, recursive)
                if tree >= 0 { trees[index] = FileDescriptor(adopting: tree) }
            }
        }
        return HostBindSources(trees: trees)
    }

    /// Whether every directory above `source` lets anyone search it, so that the init,
    /// whatever host id the user namespace makes it, can look the source up by path.
    /// Such sources stay with the init: a bind made there copies the mount inside the
    /// container's own mount namespace, where the kernel locks the flags the host mount
    /// had (a nodev, nosuid or read-only host mount stays so, even for a root with
    /// CAP_SYS_ADMIN in the namespace), as runc's binds are. A tree cloned on the host
    /// side carries those flags unlocked, so it is used only where the path would fail.
    static func reachableByAnyone(_ source: String) -> Bool {
        func searchable(_ path: String) -> Bool {
            guard let st = try? Files.status(path) else { return false }
            return st.st_mode & S_IXOTH != 0
        }
        var prefix = ""
        for component in source.split(separator: "/").dropLast() {
            prefix += "/" + component
            guard searchable(prefix) else { return false }
        }
        return searchable("/")
    }

    /// The kind of mount point to make: the tree's root's, or the source path's.
    static func kind(of tree: FileDescriptor?, orOf source: String) throws -> MountTarget.Kind {
        var st = Glibc.stat()
        if let tree {
            try syscall("fstat", source) { fstat(tree.rawValue, &st) }
        } else {
            st = try Files.status(source)
        }
        return (st.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
    }

    /// Attaches `tree` at the mount point held open as `target` (no path followed).
    static func attach(_ tree: FileDescriptor, at target: MountTarget, in rootfs: String) throws {
        try syscall("move_mount", rootfs + target.destination) { sh_move_mount_fd(tree.rawValue, target.fd.rawValue) }
    }
}
