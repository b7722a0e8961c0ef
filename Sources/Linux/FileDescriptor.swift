import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor with one owner that closes it.
///
/// A class rather than a raw `Int32` so that every descriptor the runtime opens is
/// closed exactly once, on every path, including the error paths of container set-up.
public final class FileDescriptor: @unchecked Sendable {
    public private(set) var rawValue: Int32

    public init(adopting rawValue: Int32) { self.rawValue = rawValue }

    deinit { if rawValue >= 0 { _ = Glibc.close(rawValue) } }

    /// Opens `path`; O_CLOEXEC is always added: a descriptor crosses exec only when asked.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = try syscall("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(adopting: fd)
    }

    /// Opens `path` relative to this directory descriptor.
    public func openAt(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = try syscall("openat", path) { Glibc.openat(rawValue, path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(adopting: fd)
    }

    public func close() {
        if rawValue >= 0 { _ = Glibc.close(rawValue) }
        rawValue = -1
    }

    /// Gives up ownership: the caller becomes responsible for the number.
    public func release() -> Int32 {
        let fd = rawValue
        rawValue = -1
        return fd
    }

    public func setCloseOnExec(_ on: Bool) throws {
        try syscall("fcntl F_SETFD") { sh_set_cloexec(rawValue, on ? 1 : 0) }
    }

    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try bytes.withUnsafeBytes { (buf) throws -> Int in
                try syscall("write") { Glibc.write(rawValue, buf.baseAddress! + offset, buf.count - offset) }
            }
            offset += n
        }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Reads until end of file, refusing more than `limit` bytes.
    public func readAll(limit: Int = 64 << 20, path: String? = nil) throws -> [UInt8] {
        var result: [UInt8] = []
        // Most files read here are small (/proc, cgroup, state): start small, grow.
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if result.count >= 16384 && chunk.count < 65536 { chunk = [UInt8](repeating: 0, count: 65536) }
            let n = try chunk.withUnsafeMutableBytes { (buf) throws -> Int in
                try syscall("read", path) { Glibc.read(rawValue, buf.baseAddress, buf.count) }
            }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
            if result.count > limit { throw SystemError(call: "read", path: path, errno: EFBIG) }
        }
    }

    /// Reads once, up to `count` bytes.
    public func read(upTo count: Int) throws -> [UInt8] {
        // Uninitialized, as receiveMessage: read writes only what it returns.
        try [UInt8](unsafeUninitializedCapacity: count) { buf, got in
            got = try syscall("read") { Glibc.read(rawValue, buf.baseAddress, buf.count) }
        }
    }
}

extension FileDescriptor {
    public func setNonBlocking(_ on: Bool) throws {
        try syscall("fcntl F_SETFL") { sh_set_nonblock(rawValue, on ? 1 : 0) }
    }

    /// A pipe, both ends close-on-exec: (read end, write end).
    public static func pipe() throws -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        try syscall("pipe2") { sh_pipe_cloexec(&fds) }
        return (FileDescriptor(adopting: fds[0]), FileDescriptor(adopting: fds[1]))
    }

    /// Closes every descriptor from `first` up except those in `keep` (close_range(2)
    /// over the gaps), so nothing the caller had open is even held by a process
    /// that waits before exec. The caller must not use the closed numbers again.
    /// (`keep` is an array, not a Set: this runs in every container's init, where a
    /// first Set<Int32> costs the runtime a scan of the binary's conformance records.)
    public static func closeAll(from first: Int32, except keep: [Int32]) throws {
        var start = first
        for fd in keep.filter({ $0 >= first }).sorted() where fd >= start {
            if fd > start {
                try syscall("close_range") { sh_close_range(UInt32(start), UInt32(fd - 1), 0) }
            }
            start = fd + 1
        }
        try syscall("close_range") { sh_close_range(UInt32(start), UInt32.max, 0) }
    }
}
