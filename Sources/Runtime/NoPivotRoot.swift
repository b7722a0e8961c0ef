import Linux

/// `--no-pivot`: the rootfs is moved onto "/" (MS_MOVE) and chroot'ed into, so the old
/// root is never detached: it stays in the container's mount namespace, under the
/// chroot. The kernel lets a process mount a new proc or sysfs (in a user and pid
/// namespace of its own: `unshare -mrpf mount -t proc proc /x`) only if the namespace
/// already shows a full, uncovered one (mnt_too_revealing), and the host's /proc and
/// /sys left in the old root are such mounts: with them, the container could mount a
/// proc of its own with nothing masked. runc removes them before the move; so does
/// this. The container's own /proc and /sys, under the rootfs, have masked paths over
/// them, which is what makes the kernel refuse.
enum NoPivotRoot {
    /// Detaches every full proc and sysfs mount outside `rootfs` (made rslave first so
    /// the unmount does not reach the host); one that cannot be unmounted (a user
    /// namespace, where it is locked) is covered with an empty tmpfs instead.
    static func hideHostPseudoFilesystems<K: Kernel>(outside rootfs: String, kernel: K) throws {
        for point in try fullPseudoFilesystemMounts(outside: rootfs, kernel: kernel) {
            do {
                try kernel.mount(source: "", target: point, type: nil, flags: [.slave, .recursive])
            } catch let e as SystemError where e.code == .noSuchFileOrDirectory {
                // Under one already detached.
                continue
            }
            do {
                try kernel.unmount(point, detach: true)
            } catch let e as SystemError where e.code == .invalidArgument || e.code == .notPermitted {
                try kernel.mount(source: "tmpfs", target: point, type: "tmpfs", flags: [])
            }
        }
    }

    /// Mount points of proc and sysfs mounts whose root is the file system's root (a
    /// full mount), outside `rootfs`, deepest last as the table lists them.
    static func fullPseudoFilesystemMounts<K: Kernel>(outside rootfs: String, kernel: K) throws -> [String] {
        fullPseudoFilesystemMounts(in: try kernel.read("/proc/self/mountinfo"), outside: RootPropagation.resolved(rootfs))
    }

    /// The same from the text of a mountinfo table.
    static func fullPseudoFilesystemMounts(in table: [UInt8], outside rootfs: String) -> [String] {
        var points: [String] = []
        var spaces: [Int] = []
        ByteLines.forEach(in: table) { line in
            ByteLines.separators(UInt8(ascii: " "), in: table, line, limit: 64, into: &spaces)
            // id parent major:minor root mountpoint options [optional...] - fstype ...
            guard spaces.count >= 7 else { return }
            let root = table[(spaces[2] + 1)..<spaces[3]]
            guard root.count == 1, root.first == UInt8(ascii: "/") else { return }
            // The separator "-" is a field of its own after the optional fields.
            var dash = 5
            while dash + 1 < spaces.count {
                let field = table[(spaces[dash] + 1)..<spaces[dash + 1]]
                if field.count == 1, field.first == UInt8(ascii: "-") { break }
                dash += 1
            }
            guard dash + 2 < spaces.count else { return }
            let type = String(decoding: table[(spaces[dash + 1] + 1)..<spaces[dash + 2]], as: UTF8.self)
            guard type == "proc" || type == "sysfs" else { return }
            let point = MountInfoText.unescape(table[(spaces[3] + 1)..<spaces[4]])
            if !RootPropagation.isSameOrParent(rootfs, of: point) { points.append(point) }
        }
        return points
    }
}
