import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// What a descriptor names, as fstat(2) reports it.
public enum FileKind: Sendable {
    case directory, symlink, other
}

/// Descriptors of paths inside a directory that are never followed out of it: O_PATH
/// descriptors (they name a file without opening its contents, for the *at calls and
/// for mount(2) through /proc/self/fd), O_NOFOLLOW on each component, and openat2
/// with RESOLVE_IN_ROOT.
extension FileDescriptor {
    /// An O_PATH descriptor of the directory `path`.
    public static func openPath(directory path: String) throws -> FileDescriptor {
        try open(path, SH_O_PATH | O_DIRECTORY)
    }

    /// An O_PATH descriptor of `name` in this directory: the link itself if it is a
    /// symlink (O_NOFOLLOW).
    public func openPath(entry name: String) throws -> FileDescriptor {
        try openAt(name, SH_O_PATH | O_NOFOLLOW)
    }

    /// An O_PATH descriptor of `path` resolved beneath this directory as if it were
    /// "/" (openat2 RESOLVE_IN_ROOT, no magic links): symlinks, ".." and absolute
    /// paths stay inside it. `directory`: the path must name a directory.
    public func openPath(beneath path: String, directory: Bool = false) throws -> FileDescriptor {
        let flags = directory ? SH_O_PATH | O_DIRECTORY : SH_O_PATH
        let fd = try syscall("openat2", path) { sh_open_in_root(rawValue, path, flags) }
        return FileDescriptor(adopting: fd)
    }

    /// Creates the empty file `name` in this directory; fails (EEXIST) if anything is
    /// there, even a symlink, which is not followed (O_EXCL | O_NOFOLLOW).
    public func createFile(_ name: String, mode: UInt32) throws {
        try openAt(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode).close()
    }

    /// mkdirat(2) of `name` in this directory.
    public func makeDirectory(_ name: String, mode: UInt32) throws {
        try syscall("mkdirat", name) { mkdirat(rawValue, name, mode) }
    }

    /// What this descriptor names (fstat(2)).
    public func kind() throws -> FileKind {
        var st = stat()
        try syscall("fstat") { fstat(rawValue, &st) }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }
}
