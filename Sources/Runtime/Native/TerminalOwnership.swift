import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The owner of the process's terminal. A pty made by the init (or by `exec -t`) is
/// created by root, so without this `tty` works but the user's own terminal belongs to
/// root: `ls -l /proc/self/fd/0`, `mesg`, `write` and programs that reopen their tty
/// see someone else's device. runc gives stdio to the process's uid before the user
/// switch (fixStdioPermissions); the group is the container's "tty" group.
enum TerminalOwnership {
    /// Gives each of fds 0-2 that is a terminal to `uid` and the container's tty group
    /// (the gid of "tty" in /etc/group; without one, the group it has, which devpts'
    /// gid= option chose, as runc leaves it). Only terminals, and the caller calls it
    /// only for the pty it made: a pipe, file or terminal the engine passed in is the
    /// host's, and changing its owner would reach outside the container. Must run while the process may still chown (before the user switch),
    /// after the root switch (the container's /etc/group).
    static func giveStdio(to uid: UInt32) throws {
        var looked = false
        var group: UInt32?
        for fd: Int32 in 0...2 where isatty(fd) == 1 {
            var st = Glibc.stat()
            guard fstat(fd, &st) == 0 else { continue }
            if !looked { group = ttyGroup(); looked = true }
            let gid = group ?? st.st_gid
            if st.st_uid == uid && st.st_gid == gid { continue }
            if fchown(fd, uid, gid) != 0 {
                let code = errno
                // EINVAL: the uid or gid has no mapping in this user namespace; EPERM:
                // the pty's owner has none (a joined user namespace). runc leaves
                // stdio alone then rather than fail the container; so does this.
                if code == EINVAL || code == EPERM { continue }
                throw SystemError(call: "fchown", path: "/proc/self/fd/\(fd)", errno: code)
            }
        }
    }

    /// The gid of the "tty" group in the container's /etc/group, if it has one.
    /// The image is untrusted: only a regular file is read (O_NONBLOCK: a FIFO there
    /// must not hang the set-up), and only its first megabyte.
    static func ttyGroup() -> UInt32? {
        guard let fd = try? FileDescriptor.open("/etc/group", O_RDONLY | O_NONBLOCK) else { return nil }
        defer { fd.close() }
        var st = Glibc.stat()
        guard fstat(fd.rawValue, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
              let bytes = try? fd.readAll(limit: 1 << 20, path: "/etc/group") else { return nil }
        return groupID(named: "tty", inGroupFile: bytes)
    }

    /// The gid (third field) of the first line of a group(5) file whose name is `name`.
    static func groupID(named name: String, inGroupFile bytes: [UInt8]) -> UInt32? {
        let wanted = Array(name.utf8)
        var colons: [Int] = []
        var found: UInt32?
        ByteLines.forEach(in: bytes) { line in
            guard found == nil else { return }
            // name:password:gid[:members]
            ByteLines.separators(UInt8(ascii: ":"), in: bytes, line, limit: 3, into: &colons)
            guard colons.count >= 2, Array(bytes[line.lowerBound..<colons[0]]) == wanted else { return }
            let end = colons.count == 3 ? colons[2] : line.upperBound
            let digits = bytes[(colons[1] + 1)..<end]
            guard !digits.isEmpty, digits.count <= 10 else { return }
            var value: UInt64 = 0
            for byte in digits {
                let digit = byte &- UInt8(ascii: "0")
                if digit > 9 { return }
                value = value * 10 + UInt64(digit)
            }
            if value <= UInt64(UInt32.max) { found = UInt32(value) }
        }
        return found
    }
}
