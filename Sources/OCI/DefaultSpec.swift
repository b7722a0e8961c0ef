// Tracks the OCI runtime-spec v1.2.0 and the default config of `runc spec`
// (runc libcontainer/specconv/example.go: Example and ToRootless).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Spec {
    /// The config.json `safehouse spec` writes: the one `runc spec` writes, except that
    /// the hostname is "safehouse".
    ///
    /// With `rootless`, it is adapted as `runc spec --rootless` adapts it: a user
    /// namespace mapping container root to the caller's effective uid and gid (size 1),
    /// no network namespace (an unprivileged user cannot configure one), /sys bound from
    /// the host instead of a new sysfs, no `uid=`/`gid=` mount options (those ids are
    /// unmapped), and no cgroup resources. Unlike runc, the /sys/fs/cgroup mount is
    /// dropped too: the /sys rbind already shows the host's cgroup tree read-only, and a
    /// fresh cgroup mount needs privileges a rootless caller may lack.
    ///
    /// - Parameters:
    ///   - hostUID: the host uid to map to container root; the caller's euid by default.
    ///   - hostGID: the host gid to map to container root; the caller's egid by default.
    public static func runcDefault(rootless: Bool, hostUID: UInt32? = nil, hostGID: UInt32? = nil) -> Spec {
        var spec = Spec(
            ociVersion: Spec.version,
            process: Process(
                terminal: true,
                user: User(uid: 0, gid: 0),
                args: ["sh"],
                env: [
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm",
                ],
                cwd: "/",
                capabilities: LinuxCapabilities(
                    bounding: defaultCapabilities,
                    effective: defaultCapabilities,
                    permitted: defaultCapabilities,
                    ambient: defaultCapabilities
                ),
                rlimits: [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
                noNewPrivileges: true
            ),
            root: Root(path: "rootfs", readonly: true),
            hostname: "safehouse",
            mounts: defaultMounts,
            linux: LinuxConfig(
                resources: LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")]),
                // runc 1.1's list: no cgroup namespace. Tools patch `runc spec` output
                // by appending what they need ({"type": "cgroup"} among them); an extra
                // entry here would turn that into a duplicate.
                namespaces: [
                    LinuxNamespace(type: .pid),
                    LinuxNamespace(type: .network),
                    LinuxNamespace(type: .ipc),
                    LinuxNamespace(type: .uts),
                    LinuxNamespace(type: .mount),
                ],
                maskedPaths: defaultMaskedPaths,
                readonlyPaths: defaultReadonlyPaths
            )
        )
        if rootless {
            spec.makeRootless(hostUID: hostUID ?? UInt32(geteuid()), hostGID: hostGID ?? UInt32(getegid()))
        }
        return spec
    }

    /// The capabilities runc's default config keeps.
    static let defaultCapabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    /// runc's default mounts, in order.
    static let defaultMounts: [Mount] = [
        Mount(destination: "/proc", type: "proc", source: "proc"),
        Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
              options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
              options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
              options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
              options: ["nosuid", "noexec", "nodev"]),
        Mount(destination: "/sys", type: "sysfs", source: "sysfs",
              options: ["nosuid", "noexec", "nodev", "ro"]),
        Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
              options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
    ]

    /// Paths runc hides: kernel interfaces that leak host information or allow attacks.
    /// Current runc also masks /sys/devices/virtual/tpm (TPM event logs).
    public static let defaultMaskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi", "/sys/devices/virtual/tpm",
    ]

    /// Paths runc makes read-only.
    public static let defaultReadonlyPaths = [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ]

    /// The rootless adaptation described on `runcDefault(rootless:hostUID:hostGID:)`.
    private mutating func makeRootless(hostUID: UInt32, hostGID: UInt32) {
        var linux = self.linux ?? LinuxConfig()
        linux.namespaces = (linux.namespaces ?? []).filter { $0.type != .network && $0.type != .user }
            + [LinuxNamespace(type: .user)]
        linux.uidMappings = [LinuxIDMapping(containerID: 0, hostID: hostUID, size: 1)]
        linux.gidMappings = [LinuxIDMapping(containerID: 0, hostID: hostGID, size: 1)]
        linux.resources = nil
        self.linux = linux

        mounts = (mounts ?? []).compactMap { mount in
            if mount.destination == "/sys" {
                return Mount(destination: "/sys", type: "none", source: "/sys",
                             options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            }
            if mount.destination == "/sys/fs/cgroup" { return nil }
            var mount = mount
            mount.options = mount.options?.filter { !$0.hasPrefix("uid=") && !$0.hasPrefix("gid=") }
            return mount
        }
    }
}
