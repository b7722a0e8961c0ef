import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The container's /dev: the default devices every container gets, the spec's
/// `linux.devices`, and the standard symlinks.
struct DeviceSetup {
    let rootfs: String
    let devices: [LinuxDevice]
    /// Bind-mount from the host instead of mknod (user namespaces cannot mknod).
    let bindFromHost: Bool

    /// The runtime spec's default devices (config-linux.md "Default Devices").
    static let defaults: [LinuxDevice] = [
        LinuxDevice(path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/full", type: "c", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/random", type: "c", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/urandom", type: "c", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/tty", type: "c", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    func create() throws {
        // Modes are exactly the spec's, not filtered by the runtime's umask.
        let oldMask = umask(0)
        defer { umask(oldMask) }
        let requested = Set(devices.map(\.path))
        for device in Self.defaults where !requested.contains(device.path) {
            try create(device)
        }
        for device in devices {
            try create(device)
        }
        try makeSymlinks()
    }

    private func create(_ device: LinuxDevice) throws {
        let target = try SecureJoin.resolve(device.path, in: rootfs)
        if let slash = target.lastIndex(of: "/") { try Files.makeDirectories(String(target[..<slash])) }
        if bindFromHost {
            if !Files.exists(target) { try Files.touch(target, mode: 0o000) }
            try Mounts.mount(source: device.path, target: target, type: "bind", flags: .bind)
            return
        }
        let kind: mode_t
        switch device.type {
        case "c", "u": kind = S_IFCHR
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: throw RuntimeError("\(device.path): unknown device type \"\(device.type)\"")
        }
        let mode = mode_t(device.fileMode ?? 0o666) & 0o7777
        _ = unlink(target)
        try Files.makeNode(target, kind: kind, mode: mode, major: UInt32(device.major ?? 0),
                           minor: UInt32(device.minor ?? 0), name: device.path)
        try syscall("chown", device.path) { chown(target, device.uid ?? 0, device.gid ?? 0) }
    }

    /// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx as runc makes them.
    private func makeSymlinks() throws {
        var links: [(String, String)] = [
            ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
            ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
        ]
        if Files.exists("/proc/kcore") { links.append(("/proc/kcore", "/dev/core")) }
        for (target, link) in links {
            let path = rootfs + link
            if Files.exists(path) { continue }
            try Files.symlink(target, at: path)
        }
        // /dev/ptmx points at the container's own devpts instance.
        let ptmx = rootfs + "/dev/ptmx"
        _ = unlink(ptmx)
        try Files.symlink("pts/ptmx", at: ptmx)
    }
}
