import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Applies one image layer (an uncompressed tar, the OCI image-spec's changeset) to an
/// empty directory in the form overlayfs reads as a lower layer:
///
/// - `.wh.NAME` becomes a whiteout, a 0:0 character device `NAME`; `.wh..wh..opq`
///   makes its directory opaque (`trusted.overlay.opaque=y`), hiding the layers below.
/// - Owners, modes (setuid bits too), times and the `security.capability` and `user.*`
///   attributes are kept as the archive says; nothing is mapped here (the ephemeral
///   root idmaps the layers for each sandbox).
///
/// A layer comes from whoever built the image, so it is read as hostile: a member
/// whose name leaves the layer (`..`), a device node, a member reached through a
/// symlink (a link `x -> /etc` and then `x/passwd`), a hard link to something outside
/// the layer, or an attribute of overlayfs's own (`trusted.overlay.*`, which could
/// forge a whiteout or a redirect) fails the whole layer with the member named. Every
/// path is walked one component at a time from the layer's root with `O_NOFOLLOW`, so
/// no symlink is ever followed, whatever the members' order. The caller unpacks into
/// a private temporary directory and renames it into place only on success
/// (LayerStore), so a refused layer leaves nothing behind.
public struct LayerUnpacker {
    let root: FileDescriptor
    let label: String
    /// Directories whose times are set last: adding members changes them.
    private var directoryTimes: [(path: String, mtime: Int64)] = []
    /// The parent directory used last, kept open: members arrive grouped by directory.
    private var cachedParent: (path: [String], fd: FileDescriptor)?

    /// Unpacks the tar read from `tar` into the empty directory `directory`.
    /// `label` names the layer in errors ("layer sha256:ab12...").
    /// `tee` gets every byte read (LayerStream's digest).
    public static func unpack(tar: ByteSource, tee: FileDescriptor? = nil, label: String, into directory: String) throws {
        var unpacker = LayerUnpacker(root: try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW), label: label)
        var reader = TarReader(fd: tar, label: label, tee: tee)
        while let entry = try reader.next() {
            try unpacker.apply(entry, reader: &reader)
        }
        try unpacker.finish()
    }

    init(root: FileDescriptor, label: String) {
        self.root = root
        self.label = label
    }

    /// The name's components inside the layer: "./usr/bin/" is ["usr", "bin"]. Refuses
    /// a name with ".." (it could leave the layer) or a NUL byte.
    public static func components(of name: String, label: String) throws -> [String] {
        guard !name.contains("\0") else { throw ImageError("\(label): \(name.debugDescription): a NUL byte in a member's name") }
        var parts: [String] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            guard part != ".." else { throw ImageError("\(label): \(name): the path leaves the layer (\"..\")") }
            parts.append(String(part))
        }
        return parts
    }

    mutating func apply(_ entry: TarEntry, reader: inout TarReader) throws {
        let parts = try Self.components(of: entry.name, label: label)
        let shown = parts.joined(separator: "/")
        switch entry.kind {
        case .characterDevice, .blockDevice:
            throw ImageError("\(label): \(shown): device nodes are refused (a layer may not carry one)")
        default: break
        }
        for x in entry.xattrs where x.name.hasPrefix("trusted.overlay.") {
            throw ImageError("\(label): \(shown): the attribute \(x.name) is overlayfs's own and is refused")
        }
        guard let last = parts.last else {
            // "./": the layer's root directory itself.
            guard entry.kind == .directory else { throw ImageError("\(label): \(entry.name): the layer's root must be a directory") }
            try syscall("fchown", shown) { fchown(root.rawValue, entry.uid, entry.gid) }
            try syscall("fchmod", shown) { fchmod(root.rawValue, entry.mode) }
            directoryTimes.append(("", entry.mtime))
            return
        }
        let parentPath = Array(parts.dropLast())
        let parent = try directory(parentPath, for: shown)

        // Whiteouts: the OCI changeset's names, turned into overlayfs's form.
        if last == ".wh..wh..opq" {
            let dir = try FileDescriptor(adopting: syscall("openat", shown) { openat(parent.rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) })
            try syscall("setxattr trusted.overlay.opaque", parentPath.joined(separator: "/")) {
                sh_fsetxattr(dir.rawValue, "trusted.overlay.opaque", "y", 1)
            }
            return
        }
        if last.hasPrefix(".wh..wh.") { return } // aufs's own bookkeeping (.wh..wh.plnk): not content
        if last.hasPrefix(".wh.") {
            let hidden = String(last.dropFirst(4))
            guard !hidden.isEmpty, hidden != ".", hidden != ".." else { throw ImageError("\(label): \(shown): a whiteout of no name") }
            if exists(parent, hidden) { throw ImageError("\(label): \(shown): the layer both has and removes \(hidden)") }
            try syscall("mknod (whiteout)", shown) { sh_mknodat(parent.rawValue, hidden, UInt32(S_IFCHR), 0, 0) }
            return
        }

        var st = stat()
        if fstatat(parent.rawValue, last, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
            if isDirectory && entry.kind == .directory {
                try setAttributes(entry, parent: parent, name: last, shown: shown)
                directoryTimes.append((shown, entry.mtime))
                return
            }
            // A later member of the same name replaces an earlier one (tar's rule);
            // never a directory, whose members would go with it.
            guard !isDirectory else { throw ImageError("\(label): \(shown): replaces a directory of the same layer") }
            try syscall("unlinkat", shown) { unlinkat(parent.rawValue, last, 0) }
            if cachedParent?.path == parentPath + [last] { cachedParent = nil }
        }

        switch entry.kind {
        case .directory:
            try syscall("mkdirat", shown) { mkdirat(parent.rawValue, last, 0o700) }
            try setAttributes(entry, parent: parent, name: last, shown: shown)
            directoryTimes.append((shown, entry.mtime))
        case .regular:
            let file = try FileDescriptor(adopting: syscall("openat", shown) {
                openat(parent.rawValue, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            })
            while true {
                let chunk = try reader.readContent(max: 1 << 20)
                if chunk.isEmpty { break }
                try chunk.withUnsafeBytes { buf in
                    var done = 0
                    while done < buf.count {
                        done += try syscall("write", shown) { Glibc.write(file.rawValue, buf.baseAddress! + done, buf.count - done) }
                    }
                }
            }
            // Owner first: chown clears the setuid and setgid bits the mode then sets.
            try syscall("fchown", shown) { fchown(file.rawValue, entry.uid, entry.gid) }
            try syscall("fchmod", shown) { fchmod(file.rawValue, entry.mode) }
            for x in entry.xattrs where Self.keeps(x.name) {
                try syscall("fsetxattr \(x.name)", shown) { sh_fsetxattr(file.rawValue, x.name, x.value, x.value.count) }
            }
            var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: 0), timespec(tv_sec: Int(entry.mtime), tv_nsec: 0)]
            try syscall("futimens", shown) { futimens(file.rawValue, &times) }
        case .symlink:
            // The target is text for the sandbox to resolve inside its own root; here it
            // is never followed (every walk is O_NOFOLLOW).
            guard !entry.linkName.contains("\0") else { throw ImageError("\(label): \(shown): a NUL byte in the link's target") }
            try syscall("symlinkat", shown) { symlinkat(entry.linkName, parent.rawValue, last) }
            try syscall("fchownat", shown) { fchownat(parent.rawValue, last, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) }
            var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: 0), timespec(tv_sec: Int(entry.mtime), tv_nsec: 0)]
            try syscall("utimensat", shown) { utimensat(parent.rawValue, last, &times, AT_SYMLINK_NOFOLLOW) }
        case .hardlink:
            let targetParts = try Self.components(of: entry.linkName, label: label)
            guard let targetName = targetParts.last else { throw ImageError("\(label): \(shown): a hard link to the layer's root") }
            let targetParent = try directory(Array(targetParts.dropLast()), for: shown, creating: false)
            var target = stat()
            guard fstatat(targetParent.rawValue, targetName, &target, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw ImageError("\(label): \(shown): a hard link to \(entry.linkName), which is not in the layer before it")
            }
            guard (target.st_mode & S_IFMT) != S_IFDIR else { throw ImageError("\(label): \(shown): a hard link to a directory") }
            // The parent may be the cached one the target walk replaced: walk again.
            let parent = try directory(parentPath, for: shown)
            try syscall("linkat", shown) { linkat(targetParent.rawValue, targetName, parent.rawValue, last, 0) }
        case .fifo:
            try syscall("mkfifoat", shown) { mkfifoat(parent.rawValue, last, 0o600) }
            try setAttributes(entry, parent: parent, name: last, shown: shown)
        case .characterDevice, .blockDevice:
            break // refused above
        }
    }

    /// Owner, mode and kept attributes of a directory or fifo just made or met again.
    private func setAttributes(_ entry: TarEntry, parent: FileDescriptor, name: String, shown: String) throws {
        try syscall("fchownat", shown) { fchownat(parent.rawValue, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) }
        try syscall("fchmodat", shown) { fchmodat(parent.rawValue, name, entry.mode, 0) }
        let kept = entry.xattrs.filter { Self.keeps($0.name) }
        if !kept.isEmpty, entry.kind == .directory {
            let dir = try FileDescriptor(adopting: syscall("openat", shown) {
                openat(parent.rawValue, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            })
            for x in kept {
                try syscall("fsetxattr \(x.name)", shown) { sh_fsetxattr(dir.rawValue, x.name, x.value, x.value.count) }
            }
        }
    }

    /// Attributes a layer's files keep: file capabilities and user attributes. Others
    /// (SELinux labels, ACLs of another host) say nothing in a sandbox and are dropped.
    static func keeps(_ name: String) -> Bool {
        name == "security.capability" || name.hasPrefix("user.")
    }

    private func exists(_ parent: FileDescriptor, _ name: String) -> Bool {
        var st = stat()
        return fstatat(parent.rawValue, name, &st, AT_SYMLINK_NOFOLLOW) == 0
    }

    /// The directory `path` inside the layer, walked one component at a time without
    /// following anything; missing directories are made (0755, root's: a member may
    /// come before its parent's own member, which then sets them) unless `creating`
    /// is false. A symlink or a file on the way fails with the member named.
    private mutating func directory(_ path: [String], for member: String, creating: Bool = true) throws -> FileDescriptor {
        if let cached = cachedParent, cached.path == path { return cached.fd }
        var current = root
        var walked: [String] = []
        for part in path {
            walked.append(part)
            var st = stat()
            if fstatat(current.rawValue, part, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT, creating else {
                    throw ImageError("\(label): \(member): \(walked.joined(separator: "/")) is not in the layer")
                }
                try syscall("mkdirat", walked.joined(separator: "/")) { mkdirat(current.rawValue, part, 0o755) }
            } else if (st.st_mode & S_IFMT) == S_IFLNK {
                throw ImageError("\(label): \(member): the path goes through the symlink \(walked.joined(separator: "/")) (refused: it could lead out of the layer)")
            } else if (st.st_mode & S_IFMT) != S_IFDIR {
                throw ImageError("\(label): \(member): \(walked.joined(separator: "/")) is not a directory")
            }
            let next = try syscall("openat", walked.joined(separator: "/")) {
                openat(current.rawValue, part, SH_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            current = FileDescriptor(adopting: next)
        }
        if creating { cachedParent = (path, current) }
        return current
    }

    /// Sets the directories' times, deepest first, once no member will change them.
    /// Paths are relative to the root and never pass a symlink: a member that would
    /// have put one in a directory's place was refused.
    mutating func finish() throws {
        cachedParent = nil
        for (path, mtime) in directoryTimes.sorted(by: { $0.path.count > $1.path.count }) {
            var times = [timespec(tv_sec: Int(mtime), tv_nsec: 0), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
            let name = path.isEmpty ? "." : path
            try syscall("utimensat", name) { utimensat(root.rawValue, name, &times, AT_SYMLINK_NOFOLLOW) }
        }
    }
}
