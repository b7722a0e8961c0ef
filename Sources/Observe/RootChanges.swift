import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// How much a sandbox has written into its ephemeral root so far: the used space of
/// the tmpfs that holds the overlay's upper layer (EphemeralRoot). One statvfs, the
/// same cost for ten files or a million: a walk of the upper layer (ChangeSet, at the
/// end) would grow with what the sandbox writes, every second.
public enum RootChanges {
    public struct Usage: Sendable, Equatable {
        /// Bytes in use on the tmpfs: the upper layer's files, its directories and
        /// whiteouts (a page each at least), and overlayfs's work directory.
        public var bytes: UInt64
        /// Inodes in use (files, directories, whiteouts), the layer's skeleton included.
        public var inodes: UInt64
        /// The tmpfs's size: the sandbox's disk limit.
        public var limit: UInt64
    }

    /// The ephemeral root of container `id` under the runtime root `root`; nil when
    /// it has none (or it is gone).
    public static func usage(root: String, id: String) -> Usage? {
        usage(ofTmpfs: EphemeralRoot.directory(root: root, id: id))
    }

    static func usage(ofTmpfs dir: String) -> Usage? {
        // The directory without its tmpfs (being made, or unmounted at delete) is a
        // directory of /run, whose figures are not the sandbox's: only a mount point
        // (another device than its parent's) counts.
        var here = Glibc.stat(), parent = Glibc.stat()
        guard Glibc.lstat(dir, &here) == 0, Glibc.lstat(dir + "/..", &parent) == 0, here.st_dev != parent.st_dev else { return nil }
        var st = statvfs()
        guard statvfs(dir, &st) == 0, st.f_blocks > 0 else { return nil }
        let unit = UInt64(st.f_frsize)
        return Usage(bytes: UInt64(st.f_blocks - st.f_bfree) * unit,
                     inodes: UInt64(st.f_files &- st.f_ffree),
                     limit: UInt64(st.f_blocks) * unit)
    }
}
