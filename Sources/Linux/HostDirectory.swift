import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A host directory handed to a sandbox (its /input or /output), resolved once and
/// held open: every later step (the check, the mount, the copy back) goes through
/// this descriptor, never through the path again. A path string can be redirected
/// between two uses by a symlink or a rename that a sandbox left behind (a previous
/// run's /output/next -> /etc, given back as OUT/next); a descriptor cannot.
public struct HostDirectory: @unchecked Sendable {
    /// The path as the caller gave it, for messages.
    public let path: String
    /// The directory, open O_RDONLY | O_DIRECTORY (close-on-exec).
    public let fd: FileDescriptor

    public init(path: String, fd: FileDescriptor) {
        self.path = path
        self.fd = fd
    }

    /// A clear refusal naming the path and what is wrong with it.
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Opens the absolute `path` one component at a time from "/", each opened
    /// relative to its parent with O_NOFOLLOW: a symbolic link anywhere in the path is
    /// refused, since nothing tells a link the caller made from one a sandbox planted.
    /// With `creating`, missing components are made (0755, mkdirat relative to the
    /// held parent, so the creation cannot be redirected either).
    public static func open(_ path: String, creating: Bool = false) throws -> HostDirectory {
        guard path.hasPrefix("/") else { throw Refusal("\(path): not an absolute path") }
        var current = try FileDescriptor.open("/", SH_O_PATH | O_DIRECTORY)
        var walked = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            let name = String(part)
            if name == "." { continue }
            walked += "/" + name
            var fd = Glibc.openat(current.rawValue, name, SH_O_PATH | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0, errno == ENOENT, creating {
                if Glibc.mkdirat(current.rawValue, name, 0o755) != 0, errno != EEXIST {
                    throw Refusal("\(walked): mkdir: \(SystemError.message(for: errno))")
                }
                fd = Glibc.openat(current.rawValue, name, SH_O_PATH | O_NOFOLLOW | O_CLOEXEC)
            }
            guard fd >= 0 else {
                if errno == ENOENT {
                    throw Refusal("\(path) is not a directory (\(walked == path ? "it" : walked) does not exist)")
                }
                throw Refusal("\(walked): \(SystemError.message(for: errno))")
            }
            let next = FileDescriptor(adopting: fd)
            var st = Glibc.stat()
            guard Glibc.fstat(next.rawValue, &st) == 0 else { throw Refusal("\(walked): fstat: \(SystemError.message(for: errno))") }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                current = next
            case S_IFLNK:
                var buf = [CChar](repeating: 0, count: 4096)
                let n = Glibc.readlinkat(next.rawValue, "", &buf, buf.count - 1)
                let target = n > 0 ? " -> " + String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
                throw Refusal("\(walked) is a symbolic link\(target): give the real directory (symbolic links are not followed)")
            default:
                throw Refusal(walked == path ? "\(path) is not a directory" : "\(path) is not a directory (\(walked) is not one)")
            }
        }
        // O_PATH cannot be listed or chowned: the final directory is opened for reading.
        let fd = Glibc.openat(current.rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Refusal("\(path): \(SystemError.message(for: errno))") }
        return HostDirectory(path: path, fd: FileDescriptor(adopting: fd))
    }

    /// fstat(2) of the held directory.
    public func status() throws -> Glibc.stat {
        var st = Glibc.stat()
        try syscall("fstat", path) { Glibc.fstat(fd.rawValue, &st) }
        return st
    }

    /// The names in directory `dir` (not "." and ".."), read through a duplicate of
    /// the descriptor (closedir closes the one it is given).
    public static func names(in dir: FileDescriptor) -> [String] {
        let copy = Glibc.openat(dir.rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { _ = Glibc.close(copy) }
            return []
        }
        defer { closedir(stream) }
        return Files.names(in: stream)
    }
}
