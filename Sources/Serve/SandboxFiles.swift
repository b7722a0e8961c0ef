import CLinux
import CServe
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor with one owner, closed when the owner is done.
final class OwnedDescriptor {
    private(set) var rawValue: Int32
    init(_ rawValue: Int32) { self.rawValue = rawValue }
    /// Hands the descriptor on (to NIO's file region); this owner no longer closes it.
    func release() -> Int32 {
        let fd = rawValue
        rawValue = -1
        return fd
    }
    func close() {
        if rawValue >= 0 { _ = Glibc.close(rawValue) }
        rawValue = -1
    }
    deinit { close() }
}

/// A sandbox's files, reached from the host through `/proc/<init pid>/root`. Every
/// path is resolved by the kernel with the sandbox's root as "/" (openat2
/// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, CLinux `sh_open_in_root`): `..` and
/// symlinks, absolute or not, end inside the sandbox, never on the host. Only regular
/// files are read or written, never device nodes or FIFOs; files and directories the
/// service makes belong to the sandbox's root (its host id under the user namespace):
/// they are made with the thread's filesystem ids set to that root's, so the kernel
/// checks the sandbox's permissions, not the host root's, and a filesystem mounted
/// inside the sandbox's user namespace (its /tmp) accepts the new inode.
struct SandboxFiles {
    let pid: Int32

    struct Entry { var name: String; var type: String; var size: Int64 }

    /// A request path: absolute, no NUL, at most 4096 bytes.
    static func validate(_ path: String?) throws -> String {
        guard let path, !path.isEmpty else { throw APIError.badRequest(field: "path", "missing (give ?path=/absolute/path)") }
        guard path.hasPrefix("/") else { throw APIError.badRequest(field: "path", "\"\(path)\" is not absolute") }
        guard !path.utf8.contains(0), path.utf8.count <= 4096 else { throw APIError.badRequest(field: "path", "not a valid path") }
        return path
    }

    /// The last component and the directory above it; refuses "/", "." and "..".
    static func split(_ path: String) throws -> (parent: String, name: String) {
        let parts = path.split(separator: "/").map(String.init)
        guard let name = parts.last, name != ".", name != ".." else {
            throw APIError.badRequest(field: "path", "\"\(path)\" names no file (it ends in /, . or ..)")
        }
        return ("/" + parts.dropLast().joined(separator: "/"), name)
    }

    private func root() throws -> OwnedDescriptor {
        let fd = open("/proc/\(pid)/root", SH_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw APIError.conflict("the sandbox is not running") }
        return OwnedDescriptor(fd)
    }

    /// openat2 inside the sandbox's root; EAGAIN (a rename raced the walk) is retried.
    private func openInRoot(_ path: String, _ flags: Int32) throws -> OwnedDescriptor {
        let root = try root()
        for _ in 0..<8 {
            let fd = sh_open_in_root(root.rawValue, path, flags)
            if fd >= 0 { return OwnedDescriptor(fd) }
            if errno == EAGAIN || errno == EINTR { continue }
            throw Self.failure(errno, path)
        }
        throw Self.failure(EAGAIN, path)
    }

    static func failure(_ code: Int32, _ path: String) -> APIError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOENT: return APIError.notFound("path: \(path): no such file or directory")
        case EACCES, EPERM, EROFS: return APIError(status: .forbidden, code: "permission_denied", message: "path: \(path): \(reason)")
        case ENOSPC, EDQUOT: return APIError(status: .insufficientStorage, code: "no_space", message: "path: \(path): \(reason)")
        default: return APIError.badRequest(field: "path", "\(path): \(reason)")
        }
    }

    /// The host uid and gid of the sandbox's root (0 and 0 without a user namespace).
    func rootOwner() -> (uid: uid_t, gid: gid_t) {
        func mapped(_ file: String) -> UInt32 {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8) else { return 0 }
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                if f.count == 3, f[0] == "0", let host = UInt32(f[1]) { return host }
            }
            return 0
        }
        return (mapped("uid_map"), mapped("gid_map"))
    }

    /// Runs `body` with this thread's filesystem ids set to the sandbox root's host ids
    /// (which also drops the thread's filesystem capabilities), then restores them.
    func asSandboxRoot<T>(_ body: () throws -> T) throws -> T {
        let owner = rootOwner()
        let oldGID = serve_setfsgid(owner.gid)
        let oldUID = serve_setfsuid(owner.uid)
        defer {
            _ = serve_setfsuid(uid_t(oldUID))
            _ = serve_setfsgid(gid_t(oldGID))
        }
        return try body()
    }

    private static func isRegular(_ fd: Int32) -> (Bool, stat) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return (false, st) }
        return ((st.st_mode & S_IFMT) == S_IFREG, st)
    }

    /// Opens `path` for reading: a regular file only. The descriptor and the size.
    func openForReading(_ path: String) throws -> (OwnedDescriptor, Int64) {
        let fd = try openInRoot(path, O_RDONLY | O_NONBLOCK | O_NOCTTY)
        let (regular, st) = Self.isRegular(fd.rawValue)
        guard regular else { throw APIError.badRequest(field: "path", "\(path) is not a regular file") }
        return (fd, Int64(st.st_size))
    }

    /// Opens `path` for writing, truncated; made (mode 0644, owned by the sandbox's root)
    /// when missing. Refuses anything but a regular file.
    func openForWriting(_ path: String) throws -> OwnedDescriptor {
        let (parentPath, name) = try Self.split(path)
        if let existing = try? openInRoot(path, SH_O_PATH) {
            guard Self.isRegular(existing.rawValue).0 else {
                throw APIError.badRequest(field: "path", "\(path) exists and is not a regular file")
            }
            let fd = try asSandboxRoot { try openInRoot(path, O_WRONLY | O_TRUNC | O_NONBLOCK | O_NOCTTY) }
            guard Self.isRegular(fd.rawValue).0 else { throw APIError.badRequest(field: "path", "\(path) is not a regular file") }
            return fd
        }
        let parent = try openInRoot(parentPath, SH_O_PATH | O_DIRECTORY)
        return try asSandboxRoot {
            let raw = openat(parent.rawValue, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o644)
            guard raw >= 0 else { throw Self.failure(errno, path) }
            return OwnedDescriptor(raw)
        }
    }

    /// The entries of the directory `path` (symlinks listed as such, not followed).
    func list(_ path: String) throws -> [Entry] {
        let fd = try openInRoot(path, O_RDONLY | O_DIRECTORY)
        guard let dir = fdopendir(fd.release()) else { throw Self.failure(errno, path) }
        defer { closedir(dir) }
        var entries: [Entry] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name == "." || name == ".." { continue }
            var st = stat()
            guard fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let type: String
            switch st.st_mode & S_IFMT {
            case S_IFREG: type = "file"
            case S_IFDIR: type = "dir"
            case S_IFLNK: type = "symlink"
            default: type = "other"
            }
            entries.append(Entry(name: name, type: type, size: Int64(st.st_size)))
        }
        return entries.sorted { $0.name < $1.name }
    }

    /// Makes the directory `path` and any missing parents, owned by the sandbox's root.
    /// True when it made the last one, false when it was there already.
    @discardableResult
    func makeDirectory(_ path: String) throws -> Bool {
        _ = try Self.split(path)
        return try asSandboxRoot { try makeDirectories(path) }
    }

    private func makeDirectories(_ path: String) throws -> Bool {
        var prefix = ""
        var made = false
        for component in path.split(separator: "/") where component != "." {
            if component == ".." { throw APIError.badRequest(field: "path", "\(path): .. is not allowed here") }
            let parent = try openInRoot(prefix.isEmpty ? "/" : prefix, SH_O_PATH | O_DIRECTORY)
            prefix += "/" + component
            made = false
            if mkdirat(parent.rawValue, String(component), 0o755) == 0 {
                made = true
            } else if errno != EEXIST {
                throw Self.failure(errno, prefix)
            }
        }
        // What is there must be a directory (a file or a dangling link fails here).
        _ = try openInRoot(path, SH_O_PATH | O_DIRECTORY)
        return made
    }

    /// Removes a file, a symlink (not its target) or an empty directory. A directory
    /// with contents: false, and the caller removes it from inside the sandbox.
    func remove(_ path: String) throws -> Bool {
        let (parentPath, name) = try Self.split(path)
        let parent = try openInRoot(parentPath, SH_O_PATH | O_DIRECTORY)
        return try asSandboxRoot {
            if unlinkat(parent.rawValue, name, 0) == 0 { return true }
            if errno == EISDIR {
                if unlinkat(parent.rawValue, name, AT_REMOVEDIR) == 0 { return true }
                if errno == ENOTEMPTY || errno == EEXIST { return false }
            }
            throw Self.failure(errno, path)
        }
    }
}
