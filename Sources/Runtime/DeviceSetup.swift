import Linux
import OCI

/// The container's /dev: the default devices every container gets, the spec's
/// `linux.devices`, and the standard symlinks.
struct DeviceSetup<K: Kernel> {
    let kernel: K
    let rootfs: String
    let devices: [LinuxDevice]
    /// Bind-mount from the host instead of mknod (user namespaces cannot mknod).
    let bindFromHost: Bool

    /// The runtime spec's default devices (config-linux.md "Default Devices"):
    /// /dev/null, zero, full, random, urandom and tty, all 0666 root:root.
    ///
    /// Made one at a time from a switch rather than kept in a [LinuxDevice]: the
    /// runtime instantiates that array's type from its mangled name on first use,
    /// which perf put at 2% of the init's set-up.
    static var defaultCount: Int { 6 }
    static func defaultDevice(_ index: Int) -> LinuxDevice {
        let (name, major, minor): (String, Int64, Int64)
        switch index {
        case 0: (name, major, minor) = ("null", 1, 3)
        case 1: (name, major, minor) = ("zero", 1, 5)
        case 2: (name, major, minor) = ("full", 1, 7)
        case 3: (name, major, minor) = ("random", 1, 8)
        case 4: (name, major, minor) = ("urandom", 1, 9)
        default: (name, major, minor) = ("tty", 5, 0)
        }
        return LinuxDevice(path: "/dev/" + name, type: "c", major: major, minor: minor, fileMode: 0o666, uid: 0, gid: 0)
    }

    func create() throws {
        // Modes are exactly the spec's, not filtered by the runtime's umask.
        let oldMask = Processes.setUmask(0)
        defer { Processes.setUmask(oldMask) }
        // An array, not a Set<String> (whose first use scans the binary's conformance
        // records in the init): a handful of paths.
        let requested = devices.map(\.path)
        var directories = Directories()
        for index in 0..<Self.defaultCount {
            let device = Self.defaultDevice(index)
            if !requested.contains(device.path) { try create(device, in: &directories) }
        }
        for device in devices {
            try create(device, in: &directories)
        }
        try makeSymlinks()
    }

    /// The directories device nodes go in, each walked once from the root (a
    /// MountTarget: made if missing, no symlink followed) and held open, so that each
    /// node is two short system calls on the descriptor (mknodat, fchownat) instead of
    /// four walks of the whole path from the host's "/".
    struct Directories {
        var paths: [String] = []
        var targets: [MountTarget] = []

        mutating func open(_ path: String, in rootfs: String) throws -> MountTarget {
            if let i = paths.firstIndex(of: path) { return targets[i] }
            let target = try MountTarget.open(path, in: rootfs, making: .directory)
            paths.append(path)
            targets.append(target)
            return target
        }
    }

    private func create(_ device: LinuxDevice, in directories: inout Directories) throws {
        if bindFromHost {
            let target = try SecureJoin.resolve(device.path, in: rootfs)
            if let slash = target.lastIndex(of: "/") { try Files.makeDirectories(String(target[..<slash])) }
            if !Files.exists(target) { try Files.touch(target, mode: 0o000) }
            try kernel.mount(source: device.path, target: target, type: "bind", flags: .bind)
            return
        }
        // The node's directory and name; a path with "." or ".." is resolved first.
        var components = try MountTarget.plainComponents(of: device.path)
            ?? MountTarget.resolvedComponents(of: device.path, in: rootfs)
        guard let name = components.popLast() else {
            throw RuntimeError("\(device.path): names no file to create a device node at")
        }
        try makeNode(device, named: name, in: directories.open("/" + components.joinedBy("/"), in: rootfs))
    }

    /// mknod(2) of `device` as `name` in `directory`: a node, a link or a file already
    /// there under that name is replaced (unlinked itself: a link's target is never
    /// touched); the owner is the spec's.
    private func makeNode(_ device: LinuxDevice, named name: String, in directory: MountTarget) throws {
        let kind: DeviceNodeKind
        switch device.type {
        case "c", "u": kind = .character
        case "b": kind = .block
        case "p": kind = .fifo
        default: throw RuntimeError("\(device.path): unknown device type \"\(device.type)\"")
        }
        let permissions = UInt32(device.fileMode ?? 0o666) & 0o7777
        let dir = directory.fd
        func node() throws {
            try kernel.makeNode(name, in: dir, kind: kind, permissions: permissions, major: UInt32(device.major ?? 0),
                                minor: UInt32(device.minor ?? 0), path: device.path)
        }
        do {
            try node()
        } catch let e as SystemError where e.code == .fileExists {
            kernel.unlink(name, in: dir)
            try node()
        }
        try kernel.changeOwner(name, in: dir, uid: device.uid ?? 0, gid: device.gid ?? 0, path: device.path)
    }

    /// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx as runc makes them.
    private func makeSymlinks() throws {
        // Link targets and names side by side (a [(String, String)] would have its
        // type built at run time in every init).
        var targets = ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"]
        var names = ["/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"]
        if Files.exists("/proc/kcore") {
            targets.append("/proc/kcore")
            names.append("/dev/core")
        }
        for (target, link) in zip(targets, names) {
            // Whatever is there already stays (one call, not a check and a call).
            do {
                try Files.symlink(target, at: rootfs + link)
            } catch let e as SystemError where e.code == .fileExists {
                continue
            }
        }
        // /dev/ptmx points at the container's own devpts instance, replacing what is there.
        let ptmx = rootfs + "/dev/ptmx"
        do {
            try Files.symlink("pts/ptmx", at: ptmx)
        } catch {
            Files.unlinkIfPresent(ptmx)
            try Files.symlink("pts/ptmx", at: ptmx)
        }
    }
}
