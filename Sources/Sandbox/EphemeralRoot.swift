import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The ephemeral root: the image's root filesystem stays untouched as the read-only
/// lower layer of an overlay whose upper and work directories live on a tmpfs sized
/// by the disk limit, inside the container's state directory:
///
///     /run/safehouse-ephemeral/<id>-<root hash>          tmpfs, size = disk limit, mode 0710
///                                                        root:<sandbox root's host gid> (0700 root:root
///                                                        without a user namespace)
///                                            .../upper   the sandbox's writes (owned by its root)
///                                            .../work    overlayfs's work directory
///                                            .../merged  the overlay: the container's root
///
/// With a user namespace the lower layer is an idmapped copy of the image mount, so
/// the image's files (host root's) belong to the sandbox's root and it can change
/// them (into the upper layer). The idmapped copy is detached again once the overlay
/// holds it: no path under the state directory leads to the image itself, so nothing
/// that cleans up the state directory can reach the user's files.
public enum EphemeralRoot {
    /// Where the ephemeral root of container `id` under the runtime root `root` lives.
    /// Not inside the state directory: that is 0700 (as runc's), and an init running
    /// as the sandbox's root (a host id of its user namespace's range) must reach merged/ by path.
    /// The name carries a hash of the root, so two roots may use the same id.
    public static func directory(root: String, id: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a
        for byte in root.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let tag = String(hash, radix: 16)
        return parent + "/" + id + "-" + String(repeating: "0", count: 16 - tag.count) + tag
    }

    /// True when the tmpfs at `dir` (the disk limit) has less than 64 KiB left: a
    /// writer got ENOSPC, or is about to.
    public static func isFull(_ dir: String) -> Bool {
        var st = statvfs()
        guard statvfs(dir, &st) == 0, st.f_blocks > 0 else { return false }
        return UInt64(st.f_bavail) * UInt64(st.f_frsize) < 64 << 10
    }

    /// The directory every ephemeral root lives under (0711: reachable, not listable).
    public static let parent = "/run/safehouse-ephemeral"

    /// Mounts the ephemeral root for `lower` and returns the merged directory.
    /// `files` (paths under /etc, their text) go into a read-only layer of safehouse's
    /// between the image and the upper layer: the sandbox sees them in its root, the
    /// change set (upper against image) does not report them unless the sandbox writes
    /// them, and the image is not touched (GvisorEgressLink's resolv.conf).
    /// `seed`: a saved upper layer (UpperLayerCopy) copied in before the overlay is
    /// mounted, for a sandbox restored from a snapshot.
    package static func mount(lower: String, at dir: String, sizeBytes: UInt64, linux: LinuxConfig?, files: [String: String] = [:],
                              seed: String? = nil) throws -> String {
        let upper = dir + "/upper", work = dir + "/work", merged = dir + "/merged", idmapped = dir + "/lower"
        // The parent is 0711 (reachable, not listable); each sandbox's own directory
        // below is closed to everyone but root and the sandbox (see the tmpfs mode).
        if !Files.isDirectory(parent) { try syscall("mkdir", parent) { Glibc.mkdir(parent, 0o711) } }
        try syscall("mkdir", dir) { Glibc.mkdir(dir, 0o700) }
        // The tmpfs root is the one door to upper/ and merged/ (the sandbox's files, an
        // API key it wrote): root's, and with a user namespace searchable by the
        // sandbox's root group (its init reaches merged/ by path as that group before
        // pivot_root), by nobody else. The path is guessable; the mode is the lock.
        // A joined one counts when the spec gives its mappings (a pod's: EngineSpecPolicy).
        let usesUserNamespace = (linux?.namespaces ?? []).contains { $0.type == .user && (($0.path ?? "").isEmpty || !(linux?.uidMappings ?? []).isEmpty) }
        let sandboxGid = usesUserNamespace ? linux?.gidMappings.flatMap { hostID(of: 0, in: $0) } : nil
        // A user namespace joined by path has mappings the spec does not say: its root's
        // host ids are unknown here, so the directory stays enterable (0711) as before.
        let joinsUserNamespace = !usesUserNamespace && (linux?.namespaces ?? []).contains { $0.type == .user && !($0.path ?? "").isEmpty }
        let mode = sandboxGid != nil ? "0710" : joinsUserNamespace ? "0711" : "0700"
        try Mounts.mount(source: "tmpfs", target: dir, type: "tmpfs", flags: [.noSuid, .noDev],
                         data: "size=\(sizeBytes),mode=\(mode),uid=0,gid=\(sandboxGid ?? 0)")
        for d in [upper, work] { try syscall("mkdir", d) { Glibc.mkdir(d, 0o700) } }
        for d in [merged, idmapped] { try syscall("mkdir", d) { Glibc.mkdir(d, 0o755) } }
        var lowerPaths = [lower]
        var idmappedLayers: [String] = []
        if usesUserNamespace, let uids = linux?.uidMappings, let gids = linux?.gidMappings, !uids.isEmpty, !gids.isEmpty {
            let ns = try MappingNamespace.make(uidMap: mapText(uids), gidMap: mapText(gids))
            defer { ns.close() }
            // An image root that is an overlay itself (containerd's snapshotter) cannot
            // be idmapped as a whole: its layers are, each, and stacked here in its order.
            let layers = (try? Files.readString("/proc/self/mountinfo")).flatMap { OverlayLayers.of(lower, mountinfo: $0) }
            for (index, layer) in (layers ?? [lower]).enumerated() {
                let target = index == 0 ? idmapped : idmapped + "-\(index)"
                if index > 0 { try syscall("mkdir", target) { Glibc.mkdir(target, 0o755) } }
                try IdmappedMount.attach(layer, at: target, userNamespace: ns)
                idmappedLayers.append(target)
            }
            lowerPaths = idmappedLayers
            // The upper root is the merged root's inode: give it the lower root's mode
            // and the sandbox root's host ids, or its root could not write to "/".
            var st = Glibc.stat()
            try syscall("stat", lower) { Glibc.lstat(lower + "/.", &st) }
            let uid = hostID(of: 0, in: uids) ?? 0, gid = hostID(of: 0, in: gids) ?? 0
            try syscall("chown", upper) { Glibc.chown(upper, uid, gid) }
            try syscall("chmod", upper) { Glibc.chmod(upper, st.st_mode & 0o7777) }
        } else if let info = try? Files.readString("/proc/self/mountinfo"), let stack = OverlayLayers.readOnlyStack(lower, mountinfo: info) {
            // An image's layers stacked read-only (agent run --image): they become this
            // overlay's lower layers themselves, not an overlay over an overlay.
            lowerPaths = stack
        }
        if let seed { try UpperLayerCopy.copy(from: seed, into: upper) }
        var lowers = lowerPaths.map(escaped).joined(separator: ":")
        if !files.isEmpty {
            let layer = dir + "/layer"
            try writeLayer(layer, files: files, image: lower, uids: usesUserNamespace ? linux?.uidMappings : nil,
                           gids: usesUserNamespace ? linux?.gidMappings : nil)
            lowers = layer + ":" + lowers
        }
        try Mounts.mount(source: "overlay", target: merged, type: "overlay", flags: [],
                         data: "lowerdir=\(lowers),upperdir=\(upper),workdir=\(work)")
        for layer in idmappedLayers { try Mounts.unmount(layer, detach: true) }
        return merged
    }

    /// The extra layer: the files' directories, each owned and moded as the image's
    /// own directory of that path (as the sandbox sees it through the idmapped image:
    /// the upper layer of a merged directory takes the top-most lower's attributes),
    /// or root's 0755 where the image has none; the files root's inside, 0644.
    /// Paths are under /etc (resolv.conf, the trust store's bundles).
    static func writeLayer(_ layer: String, files: [String: String], image: String, uids: [LinuxIDMapping]?, gids: [LinuxIDMapping]?) throws {
        try syscall("mkdir", layer) { Glibc.mkdir(layer, 0o755) }
        let rootUid = uids.flatMap { hostID(of: 0, in: $0) } ?? 0, rootGid = gids.flatMap { hostID(of: 0, in: $0) } ?? 0
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            let parts = path.split(separator: "/").map(String.init)
            guard parts.count >= 2, parts[0] == "etc", !parts.contains(".."), !parts.contains(".") else {
                preconditionFailure("ephemeral layer: \(path) is not under /etc")
            }
            var relative = ""
            for part in parts.dropLast() {
                relative += "/" + part
                let directory = layer + relative
                if Files.isDirectory(directory) { continue }
                var st = Glibc.stat()
                let inImage = Glibc.lstat(image + relative, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
                try syscall("mkdir", directory) { Glibc.mkdir(directory, 0o755) }
                let uid = inImage ? (uids.flatMap { hostID(of: st.st_uid, in: $0) } ?? st.st_uid) : rootUid
                let gid = inImage ? (gids.flatMap { hostID(of: st.st_gid, in: $0) } ?? st.st_gid) : rootGid
                try syscall("chown", directory) { Glibc.chown(directory, uid, gid) }
                try syscall("chmod", directory) { Glibc.chmod(directory, inImage ? st.st_mode & 0o7777 : 0o755) }
            }
            let file = layer + relative + "/" + parts[parts.count - 1]
            try Files.writeAtomically(file, Array(text.utf8), mode: 0o644)
            try syscall("chown", file) { Glibc.chown(file, rootUid, rootGid) }
        }
    }

    /// Unmounts everything under `dir` (deepest first), then removes the directory,
    /// which is empty once its tmpfs is gone. A missing root is not an error.
    public static func remove(_ dir: String) throws {
        // No directory, no mounts under it (the common case: not a sandbox): one
        // system call, not three mount-point checks.
        var st = Glibc.stat()
        if Glibc.lstat(dir, &st) != 0 && errno == ENOENT { return }
        for target in [dir + "/merged", dir + "/lower", dir] where isMountPoint(target) {
            try Mounts.unmount(target, detach: true)
        }
        if Files.isDirectory(dir) { try Files.removeTree(dir) }
    }

    /// Whether `path` is the root of a mount (its device differs from its parent's).
    static func isMountPoint(_ path: String) -> Bool {
        var st = Glibc.stat(), parent = Glibc.stat()
        guard Glibc.lstat(path, &st) == 0, Glibc.lstat(path + "/..", &parent) == 0 else { return false }
        return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino
    }

    /// Mappings as /proc/PID/uid_map and gid_map take them ("0 100000 65536\n"): for
    /// the container's user namespace and for the idmapped lower layer alike.
    package static func mapText(_ maps: [LinuxIDMapping]) -> String {
        maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }

    static func hostID(of id: UInt32, in maps: [LinuxIDMapping]) -> UInt32? {
        for m in maps where id >= m.containerID && id - m.containerID < m.size { return m.hostID + (id - m.containerID) }
        return nil
    }

    /// overlayfs option values escape "," and ":" with a backslash.
    static func escaped(_ path: String) -> String {
        var out = ""
        for c in path {
            if c == "," || c == ":" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
