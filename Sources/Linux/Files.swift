import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Small file-system operations with errors that name the path.
public enum Files {
    public static func read(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        return try fd.readAll(limit: limit, path: path)
    }

    public static func readString(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes a whole file in place (for /proc and /sys files, which must not be renamed over).
    public static func write(_ path: String, _ text: String, flags: Int32 = O_WRONLY | O_TRUNC) throws {
        let fd = try FileDescriptor.open(path, flags)
        do { try fd.write(text) } catch let e as SystemError { throw SystemError(call: "write", path: path, errno: e.errno) }
    }

    /// Writes through a temporary file and rename, so readers see the old or the new
    /// content, never a torn one (as crun's status.c does for the state file).
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws {
        let temp = path + ".tmp"
        let fd = try FileDescriptor.open(temp, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do { try fd.write(bytes) } catch let e as SystemError { throw SystemError(call: "write", path: temp, errno: e.errno) }
        fd.close()
        try syscall("rename", path) { Glibc.rename(temp, path) }
    }

    public static func exists(_ path: String) -> Bool {
        var st = Glibc.stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = Glibc.stat()
        return fstatat(AT_FDCWD, path, &st, 0) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func status(_ path: String, followSymlinks: Bool = true) throws -> Glibc.stat {
        var st = Glibc.stat()
        try syscall(followSymlinks ? "stat" : "lstat", path) {
            fstatat(AT_FDCWD, path, &st, followSymlinks ? 0 : AT_SYMLINK_NOFOLLOW)
        }
        return st
    }

    /// mkdir -p; existing directories are fine.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        // Try the directory itself first and walk up only on ENOENT: the common cases
        // (it exists; only the last component is missing) cost one system call.
        if Glibc.mkdir(path, mode) == 0 { return }
        let code = errno
        if code == EEXIST {
            if isDirectory(path) { return }
            throw SystemError(call: "mkdir", path: path, errno: ENOTDIR)
        }
        guard code == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw SystemError(call: "mkdir", path: path, errno: code)
        }
        try makeDirectories(String(path[..<slash]), mode: mode)
        try syscall("mkdir", path) { Glibc.mkdir(path, mode) }
    }

    /// Creates an empty file if nothing is there (a bind-mount target for a file).
    public static func touch(_ path: String, mode: mode_t = 0o644) throws {
        try FileDescriptor.open(path, O_WRONLY | O_CREAT, mode: mode).close()
    }

    public static func remove(_ path: String) throws {
        if Glibc.unlink(path) == 0 { return }
        let code = errno
        if code == ENOENT { return }
        if code == EISDIR || code == EPERM {
            try syscall("rmdir", path) { Glibc.rmdir(path) }
            return
        }
        throw SystemError(call: "unlink", path: path, errno: code)
    }

    /// rm -rf of a directory this runtime owns (the state directory); does not cross
    /// mount points it cannot remove and never follows symlinks.
    ///
    /// It never crosses into another mounted file system: a directory on another
    /// device is refused (EBUSY) rather than emptied, so a mount left behind (an
    /// overlay, a bind of someone's data) can never cost its owner their files.
    public static func removeTree(_ path: String) throws {
        var st = Glibc.stat()
        if Glibc.lstat(path, &st) != 0 { return }
        try removeTree(path, device: st.st_dev, st)
    }

    private static func removeTree(_ path: String, device: UInt, _ st: Glibc.stat) throws {
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if st.st_dev != device { throw SystemError(call: "remove (a mount point)", path: path, errno: EBUSY) }
            for name in try list(path) {
                var child = Glibc.stat()
                let p = path + "/" + name
                if Glibc.lstat(p, &child) != 0 { continue }
                try removeTree(p, device: device, child)
            }
            try syscall("rmdir", path) { Glibc.rmdir(path) }
        } else {
            try syscall("unlink", path) { Glibc.unlink(path) }
        }
    }

    /// Names in a directory, without "." and "..".
    public static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw SystemError(call: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        return names(in: dir)
    }

    /// The names an open directory stream reads, without "." and "..".
    static func names(in dir: OpaquePointer) -> [String] {
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func readLink(_ path: String) throws -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = try syscall("readlink", path) { Glibc.readlink(path, &buf, buf.count - 1) }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func symlink(_ target: String, at path: String) throws {
        try syscall("symlink", path) { Glibc.symlink(target, path) }
    }
}

extension Files {
    /// The value of the extended attribute `name` of `path` itself (a final symlink is
    /// not followed), or nil when it has none or cannot be read.
    public static func extendedAttribute(_ path: String, _ name: String) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: 256)
        let n = sh_lgetxattr(path, name, &value, value.count)
        return n < 0 ? nil : Array(value[0..<n])
    }
}
