import ContainerCore
import Linux

/// `linux.rootfsPropagation` and what pivot_root(2) demands of propagation.
///
/// pivot_root (and MS_MOVE, for --no-pivot) fails with EINVAL when the mount the new
/// root sits on, or the current root, is shared (the kernel will not move mounts
/// between peer groups), and no bind can be made of an unbindable mount. So a "shared"
/// or "unbindable" root is made in three steps: "/" takes the mode (beforeSwitch), the
/// rootfs's parent mount and "/" are made private (the bind of the rootfs then is
/// private too), and after the switch the mode is applied to the new root itself,
/// which is the mount the spec means. runc 1.1 takes the first two and leaves the new
/// root private.
enum RootPropagation {
    /// What "/" is made before the rootfs is bound, in order. First the whole tree
    /// becomes rslave, as runc makes it when no mode is asked: the host's shared
    /// mounts, copied into the namespace as its peers, turn into slaves, so that no
    /// mount the container makes (on a bind of one of them) reaches the host. runc
    /// skips this when a mode is asked and leaves such binds peers of the host's;
    /// the spec defines the mode of the rootfs only, which is applied next, recursively
    /// only in its "r" form. Not "runbindable": an unbindable tree could not be bound
    /// at all (a bind of it fails with EINVAL), not even the rootfs; the new root's
    /// tree is made unbindable after the switch.
    static func beforeSwitch(_ name: String?) -> [MountFlags] {
        let tree: MountFlags = [.slave, .recursive]
        guard let mode = afterSwitch(name), name != "runbindable", mode != tree, mode != .slave else { return [tree] }
        return [tree, mode]
    }

    /// The mode applied to the new root after the switch, or nil when the spec asks
    /// for none. The "r" forms (which runc accepts too) cover the mounts below it.
    static func afterSwitch(_ name: String?) -> MountFlags? {
        name.flatMap(MountOptions.propagation)
    }

    /// Whether "/" is shared or unbindable before the switch, so that the rootfs's
    /// parent mount and "/" must be made private: pivot_root refuses a shared one, and
    /// the bind of the rootfs an unbindable one.
    static func needsPrivateParent(_ name: String?) -> Bool {
        beforeSwitch(name).contains { !$0.intersection([.shared, .unbindable]).isEmpty }
    }

    /// The mount point of the mount holding `path`: the longest mount point in
    /// /proc/self/mountinfo that is `path` (resolved) or one of its parents.
    static func mountPoint<K: Kernel>(holding path: String, kernel: K) throws -> String {
        let path = resolved(path)
        let table = try kernel.read("/proc/self/mountinfo")
        var best = "/"
        var spaces: [Int] = []
        ByteLines.forEach(in: table) { line in
            // id parent major:minor root mountpoint ...: the mount point is field 5.
            ByteLines.separators(UInt8(ascii: " "), in: table, line, limit: 5, into: &spaces)
            guard spaces.count == 5 else { return }
            let point = MountInfoText.unescape(table[(spaces[3] + 1)..<spaces[4]])
            if point.count > best.count, isSameOrParent(point, of: path) { best = point }
        }
        return best
    }

    /// `path` with its symlinks resolved, as /proc/self/mountinfo names mount points
    /// (the bundle's root.path may lead through one); `path` itself if it cannot be.
    static func resolved(_ path: String) -> String {
        Files.realPath(path) ?? path
    }

    static func isSameOrParent(_ directory: String, of path: String) -> Bool {
        directory == "/" || path == directory || path.hasPrefix(directory + "/")
    }
}

/// Fields of /proc/self/mountinfo: the kernel writes space, tab, newline and backslash
/// in paths as octal escapes ("\040").
enum MountInfoText {
    static func unescape(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "\\")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.endIndex,
               let value = octal(bytes[(i + 1)...(i + 3)]) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func octal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        var value = 0
        for d in digits {
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "7") else { return nil }
            value = value * 8 + Int(d - UInt8(ascii: "0"))
        }
        return value <= 255 ? UInt8(value) : nil
    }
}
