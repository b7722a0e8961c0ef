import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain sockets: the parent/child channel and the console socket.
public enum Sockets {
    /// A connected SOCK_SEQPACKET pair: message boundaries are kept, so each send is
    /// one typed message on the other side.
    public static func seqpacketPair() throws -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        try syscall("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        return (FileDescriptor(adopting: fds[0]), FileDescriptor(adopting: fds[1]))
    }

    /// Connects to a SOCK_STREAM Unix socket at `path` (the engine's console socket).
    public static func connect(unixPath path: String) throws -> FileDescriptor {
        try streamSocket(unixPath: path, call: "connect") { fd, address, size in Glibc.connect(fd, address, size) }
    }

    /// A listening SOCK_STREAM Unix socket at `path` (made here; the caller removes it).
    public static func listen(unixPath path: String) throws -> FileDescriptor {
        let owned = try streamSocket(unixPath: path, call: "bind") { fd, address, size in Glibc.bind(fd, address, size) }
        try syscall("listen", path) { Glibc.listen(owned.rawValue, 1) }
        return owned
    }

    /// A SOCK_STREAM Unix socket with `call` (connect or bind) done on `path`'s address.
    private static func streamSocket(unixPath path: String, call: String,
                                     _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) throws -> FileDescriptor {
        let fd = try syscall("socket", path) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let owned = FileDescriptor(adopting: fd)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SystemError(call: call, path: path, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let size = socklen_t(MemoryLayout<sockaddr_un>.size)
        try syscall(call, path) {
            withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, size) } }
        }
        return owned
    }
}

extension FileDescriptor {
    /// Accepts one connection on a listening socket.
    public func accept() throws -> FileDescriptor {
        let fd = try syscall("accept") { Glibc.accept(rawValue, nil, nil) }
        let owned = FileDescriptor(adopting: fd)
        try owned.setCloseOnExec(true)
        return owned
    }

    /// Sends one message on a SOCK_SEQPACKET socket.
    public func sendMessage(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (buf) throws in
            _ = try syscall("send") { Glibc.send(rawValue, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Receives one message; an empty result means the peer closed the channel.
    /// The buffer is left uninitialized: zeroing 64 KiB would touch 16 fresh pages in
    /// each process that receives (the runtime and the init, right after the fork:
    /// 473 -> 441 page faults for a whole `run`, perf), and recv writes only what arrives.
    public func receiveMessage(maxSize: Int = 64 << 10) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: maxSize) { buf, count in
            count = try syscall("recv") { Glibc.recv(rawValue, buf.baseAddress, buf.count, 0) }
        }
    }

    /// Passes `fd` with SCM_RIGHTS, with a short payload (runc sends the pty master
    /// with its name).
    public func sendDescriptor(_ fd: FileDescriptor, payload: [UInt8]) throws {
        try payload.withUnsafeBytes { (buf) throws in
            _ = try syscall("sendmsg SCM_RIGHTS") { sh_send_fd(rawValue, fd.rawValue, buf.baseAddress, buf.count) }
        }
    }

    public func receiveDescriptor() throws -> FileDescriptor {
        var len = 0
        let fd = try syscall("recvmsg SCM_RIGHTS") { sh_recv_fd(rawValue, nil, &len) }
        return FileDescriptor(adopting: fd)
    }
}
