import ContainerCore
import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// An `agent run`'s /input, made reachable without a path to the user's directory:
/// the held directory (HostDirectory) is bind-mounted, from its descriptor and
/// read-only, at `<bundle>/input-zone`, and the spec's /input names that. The native
/// runtime takes the descriptor anyway (HostBindSources); runsc's gofer, which runs
/// as the sandbox's root, opens the source by path, and can reach the bundle (0710,
/// the sandbox root's group) where it could not enter the user's 0700 parents.
public enum InputZone {
    public static func directory(inBundle bundle: String) -> String { bundle + "/input-zone" }

    /// Mounts `input` at the bundle's input zone and returns the zone's path.
    public static func mount(input: HostDirectory, bundle: String) throws -> String {
        let zone = directory(inBundle: bundle)
        try syscall("mkdir", zone) { Glibc.mkdir(zone, 0o700) }
        let tree = FileDescriptor(adopting: try syscall("open_tree", input.path) { sh_open_tree_at(input.fd.rawValue, "", 1) })
        let target = try FileDescriptor.open(zone, SH_O_PATH | O_DIRECTORY | O_NOFOLLOW)
        try syscall("move_mount", zone) { sh_move_mount_fd(tree.rawValue, target.rawValue) }
        // Read-only here too, not only inside the sandbox (MOUNT_ATTR_RDONLY).
        try syscall("mount_setattr", zone) { sh_mount_setattr(zone, 1, 0x1, 0) }
        return zone
    }

    /// Unmounts and removes the zone; nothing when there is none. Not by comparing
    /// devices: the bind of a directory on the same file system as the bundle has
    /// the same one. Unmounted until the kernel says there is no mount (EINVAL), then
    /// removed: the directory is gone only if nothing is mounted on it (a mount
    /// point's rmdir fails with EBUSY), which is what removeTree needs.
    public static func remove(bundle: String) {
        let zone = directory(inBundle: bundle)
        guard Files.exists(zone) else { return }
        while (try? Mounts.unmount(zone, detach: true)) != nil {}
        _ = Glibc.rmdir(zone)
    }

}

/// The zones of an `agent run`'s bundle together.
public enum BundleZones {
    /// Whether a zone of `bundle` is still there, so that the bundle must not be
    /// removed recursively: the walk could reach the user's directories.
    public static func remain(inBundle bundle: String) -> Bool {
        Files.exists(InputZone.directory(inBundle: bundle)) || Files.exists(OutputZone.directory(inBundle: bundle))
    }
}
