import ContainerCore
import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// An `agent run`'s /output, bounded: an overlay whose lower layer is the host's
/// output directory (held open: HostDirectory) and whose upper layer is a tmpfs of
/// `filesystem.outputSize`. The sandbox sees the directory's files and writes up to
/// the size (then ENOSPC); when it is gone, what it wrote is copied into the directory
/// as the directory's owner, through descriptors only, and the zone is unmounted.
///
///     <bundle>/output-zone          tmpfs, size = outputSize, mode 0710 root:<sandbox
///                                    root's host gid> (0700 root without a user namespace)
///                         .../upper  what the sandbox wrote (its root owns the top)
///                         .../work   overlayfs's work directory
///                         .../merged the overlay, bind-mounted at /output
///
/// Why this and not a bind mount of the directory itself: a bind mount has no size
/// (ext4 here has no project quotas enabled, and a loop-mounted image needs mkfs and
/// a loop device per run, and a copy too); a tmpfs is bounded by the kernel, costs
/// nothing until written, and its pages count against the sandbox's memory cgroup like
/// its root's. The copy back costs one read and write of what the sandbox wrote
/// (measured with a debug build: 64 MiB about 0.1 s, 256 MiB about 0.35 s here). And the sandbox never holds the host
/// directory: it cannot plant a symlink, a setuid file or a hard link in it, nor
/// change a file of the user's it could not write; the copy back creates every file
/// itself, owned by the directory's owner, and never deletes: nothing the user had in
/// the directory is lost (a deletion or a file the sandbox could not have written is
/// left as the user had it, and said).
public enum OutputZone {
    public static func directory(inBundle bundle: String) -> String { bundle + "/output-zone" }
    public static func merged(inBundle bundle: String) -> String { directory(inBundle: bundle) + "/merged" }

    /// Mounts the zone over `output` for the run whose bundle is `bundle` and returns
    /// the merged directory, open (O_PATH) for the bind mount: the runtime attaches it
    /// from the descriptor (HostBindSources), so the 0700 bundle stays closed.
    /// `writer`: the host ids the sandbox's process runs as, who owns the top of
    /// /output; `zoneGroup`: the sandbox root's host gid, which may enter the zone
    /// (nil without a user namespace: root's alone).
    public static func mount(output: HostDirectory, bundle: String, sizeBytes: UInt64,
                             writer: (uid: UInt32, gid: UInt32), zoneGroup: UInt32?) throws -> FileDescriptor {
        let zone = directory(inBundle: bundle)
        let upper = zone + "/upper", work = zone + "/work", merged = zone + "/merged"
        try syscall("mkdir", zone) { Glibc.mkdir(zone, 0o700) }
        // Root's alone, but for the sandbox root's group with a user namespace: runsc's
        // gofer runs as that id and opens the merged directory by path (the native
        // runtime takes the descriptor). No other host user can enter.
        try Mounts.mount(source: "output", target: zone, type: "tmpfs", flags: [.noSuid, .noDev],
                         data: "size=\(sizeBytes),mode=\(zoneGroup == nil ? "0700" : "0710"),uid=0,gid=\(zoneGroup ?? 0)")
        for d in [upper, work, merged] { try syscall("mkdir", d) { Glibc.mkdir(d, 0o700) } }
        // The top of /output is the upper root's inode: the directory's mode, and the
        // ids of the sandbox's process, or it could not write to /output.
        let st = try output.status()
        try syscall("chown", upper) { Glibc.chown(upper, writer.uid, writer.gid) }
        try syscall("chmod", upper) { Glibc.chmod(upper, st.st_mode & 0o777) }
        // The lower layer through the held descriptor's magic link: the overlay takes
        // exactly the directory that was checked, whatever its path names now.
        try Mounts.mount(source: "overlay", target: merged, type: "overlay", flags: [.noSuid, .noDev],
                         data: "lowerdir=/proc/self/fd/\(output.fd.rawValue),upperdir=\(upper),workdir=\(work)," +
                             // Every change a full copy in the upper layer, which the copy
                             // back reads: no metadata-only copy-up (its data would be the
                             // lower file's), no renamed directory kept as a redirect.
                             "redirect_dir=off,metacopy=off,index=off")
        return try FileDescriptor.open(merged, SH_O_PATH | O_DIRECTORY | O_NOFOLLOW)
    }

    /// True when the zone of `bundle` has less than 64 KiB left: the sandbox filled
    /// /output (a writer got ENOSPC, or is about to).
    public static func isFull(bundle: String) -> Bool {
        let zone = directory(inBundle: bundle)
        return EphemeralRoot.isMountPoint(zone) && EphemeralRoot.isFull(zone)
    }

    /// Bytes the sandbox wrote to /output and the zone's size; nil without a zone.
    public static func usage(bundle: String) -> (used: UInt64, size: UInt64)? {
        var st = statvfs()
        let zone = directory(inBundle: bundle)
        guard EphemeralRoot.isMountPoint(zone), statvfs(zone, &st) == 0, st.f_blocks > 0 else { return nil }
        let size = UInt64(st.f_blocks) * UInt64(st.f_frsize)
        return (size - UInt64(st.f_bavail) * UInt64(st.f_frsize), size)
    }

    /// Copies what the sandbox wrote into the output directory (`held`, or the
    /// recorded one opened again and checked), then unmounts and removes the zone.
    /// Returns what was left as the user had it, one line each. Does nothing when
    /// the zone is gone already (the run finished it; delete finds nothing to do).
    @discardableResult
    public static func finish(bundle: String, ownership: OutputOwnership, held: HostDirectory? = nil) -> [String] {
        let zone = directory(inBundle: bundle)
        guard EphemeralRoot.isMountPoint(zone) else {
            if Files.isDirectory(zone) { _ = Glibc.rmdir(zone) }
            return []
        }
        var kept: [String] = []
        if let host = held ?? ownership.reopen() {
            if let upper = try? FileDescriptor.open(zone + "/upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW) {
                var copier = Copier(ownership: ownership)
                copier.copy(from: upper, into: host.fd, at: "")
                kept = copier.kept
            }
        } else {
            kept.append("\(ownership.directory): not the directory the run was given any more: what the sandbox wrote was not copied back")
        }
        let merged = zone + "/merged"
        if EphemeralRoot.isMountPoint(merged) { try? Mounts.unmount(merged, detach: true) }
        try? Mounts.unmount(zone, detach: true)
        // Only once nothing is mounted below: never a recursive removal into a layer.
        if !EphemeralRoot.isMountPoint(zone) {
            for d in ["upper", "work", "merged"] { _ = Glibc.rmdir(zone + "/" + d) }
            _ = Glibc.rmdir(zone)
        }
        return kept
    }

    /// The copy back: every step relative to a held directory descriptor, no path
    /// followed, every file made here and owned by the directory's owner.
    struct Copier {
        let ownership: OutputOwnership
        var kept: [String] = []
        var serial = 0

        mutating func copy(from upper: FileDescriptor, into host: FileDescriptor, at relative: String) {
            for name in HostDirectory.names(in: upper) {
                let shown = "/output" + relative + "/" + name
                var st = Glibc.stat()
                guard fstatat(upper.rawValue, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                var hostSt = Glibc.stat()
                let exists = fstatat(host.rawValue, name, &hostSt, AT_SYMLINK_NOFOLLOW) == 0
                switch st.st_mode & S_IFMT {
                case S_IFCHR where st.st_rdev == 0:
                    // An overlay whiteout: the sandbox deleted a file of the user's.
                    if exists { kept.append("\(shown): deleted in the sandbox, kept in the directory") }
                case S_IFDIR:
                    copyDirectory(name, st, from: upper, into: host, exists: exists, hostSt, shown: shown, relative: relative)
                case S_IFREG, S_IFLNK:
                    if exists && !ownership.sandboxMayReplace(hostSt) {
                        // Only a deletion and a new file puts a file the sandbox may not
                        // write into the upper layer (a copy-up needs write access or
                        // ownership): the user's file stays.
                        kept.append("\(shown): the sandbox could not write the directory's file: kept, not replaced")
                        continue
                    }
                    place(name, st, from: upper, into: host, shown: shown)
                default:
                    kept.append("\(shown): not a file, directory or symbolic link: not copied")
                }
            }
        }

        private mutating func copyDirectory(_ name: String, _ st: Glibc.stat, from upper: FileDescriptor, into host: FileDescriptor,
                                            exists: Bool, _ hostSt: Glibc.stat, shown: String, relative: String) {
            if exists && (hostSt.st_mode & S_IFMT) != S_IFDIR {
                kept.append("\(shown): the directory holds a file of that name: kept, the sandbox's directory not copied")
                return
            }
            if !exists {
                guard mkdirat(host.rawValue, name, 0o700) == 0 else {
                    kept.append("\(shown): mkdir: \(SystemError.message(for: errno))")
                    return
                }
            }
            guard let from = try? upper.openAt(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else {
                kept.append("\(shown): \(SystemError.message(for: errno))")
                return
            }
            // An opaque directory replaced the user's (deleted, then made again): its
            // entries were made without the right to write the user's directory
            // unless the sandbox had that right anyway.
            if exists && Self.isOpaque(from) && !ownership.sandboxMayWrite(hostSt) {
                kept.append("\(shown): the sandbox replaced a directory it could not write: kept, its new contents not copied")
                return
            }
            guard let into = try? host.openAt(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else {
                kept.append("\(shown): \(SystemError.message(for: errno))")
                return
            }
            copy(from: from, into: into, at: relative + "/" + name)
            if !exists {
                _ = fchown(into.rawValue, ownership.uid, ownership.gid)
                _ = fchmod(into.rawValue, st.st_mode & 0o1777)
            }
        }

        /// Whether the upper directory `dir` hides everything below it in the lower layer.
        static func isOpaque(_ dir: FileDescriptor) -> Bool {
            var value = [UInt8](repeating: 0, count: 8)
            let n = sh_fgetxattr(dir.rawValue, "trusted.overlay.opaque", &value, value.count)
            return n >= 1 && value[0] == UInt8(ascii: "y")
        }

        /// Makes the entry under a temporary name, owned by the directory's owner,
        /// then renames it over the name: a reader never sees half a file.
        private mutating func place(_ name: String, _ st: Glibc.stat, from upper: FileDescriptor, into host: FileDescriptor, shown: String) {
            serial += 1
            let temporary = ".safehouse-output-\(getpid())-\(serial)"
            let made: Bool
            if (st.st_mode & S_IFMT) == S_IFLNK {
                var buf = [CChar](repeating: 0, count: 4097)
                let n = readlinkat(upper.rawValue, name, &buf, buf.count - 1)
                made = n >= 0 && symlinkat(buf, host.rawValue, temporary) == 0
                    && fchownat(host.rawValue, temporary, ownership.uid, ownership.gid, AT_SYMLINK_NOFOLLOW) == 0
            } else {
                made = copyFile(name, st, from: upper, into: host, as: temporary)
            }
            guard made, renameat(host.rawValue, temporary, host.rawValue, name) == 0 else {
                kept.append("\(shown): not copied back: \(SystemError.message(for: errno))")
                _ = unlinkat(host.rawValue, temporary, 0)
                return
            }
        }

        private func copyFile(_ name: String, _ st: Glibc.stat, from upper: FileDescriptor, into host: FileDescriptor, as temporary: String) -> Bool {
            guard let source = try? upper.openAt(name, O_RDONLY | O_NOFOLLOW),
                  let target = try? host.openAt(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600) else { return false }
            // Only the data, hole by hole (SEEK_DATA/SEEK_HOLE), then the length: a
            // sparse file costs the zone nothing for its holes, and a copy that wrote
            // them out (`truncate -s 1T /output/x`) would fill the host's disk.
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var offset: off_t = 0
            while offset < st.st_size {
                let data = lseek(source.rawValue, offset, 3 /* SEEK_DATA */)
                if data < 0 { break } // ENXIO: only a hole is left
                let hole = lseek(source.rawValue, data, 4 /* SEEK_HOLE */)
                guard hole > data else { return false }
                var at = data
                while at < hole {
                    let want = Int(min(off_t(buffer.count), hole - at))
                    let n = buffer.withUnsafeMutableBytes { Glibc.pread(source.rawValue, $0.baseAddress, want, at) }
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { return false }
                    var written = 0
                    while written < n {
                        let w = buffer.withUnsafeBytes { Glibc.pwrite(target.rawValue, $0.baseAddress! + written, n - written, at + off_t(written)) }
                        if w < 0 && errno == EINTR { continue }
                        guard w > 0 else { return false }
                        written += w
                    }
                    at += off_t(n)
                }
                offset = hole
            }
            guard ftruncate(target.rawValue, st.st_size) == 0 else { return false }
            // Ownership first (chown clears set-id bits), then the mode without them.
            guard fchown(target.rawValue, ownership.uid, ownership.gid) == 0,
                  fchmod(target.rawValue, st.st_mode & 0o777) == 0 else { return false }
            var times = [st.st_atim, st.st_mtim]
            _ = futimens(target.rawValue, &times)
            return true
        }
    }
}
