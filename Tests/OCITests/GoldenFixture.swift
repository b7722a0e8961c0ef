@testable import OCI

/// A configuration that sets every property this package models, for the golden test.
let goldenSpec = Spec(
    ociVersion: "1.2.0",
    process: Process(
        terminal: true,
        consoleSize: Box(height: 24, width: 80),
        user: User(uid: 1000, gid: 1000, umask: 18, additionalGids: [5, 10], username: "agent"),
        args: ["/bin/agent", "--serve"],
        commandLine: "agent --serve",
        env: ["PATH=/usr/bin:/bin", "HOME=/home/agent"],
        cwd: "/work",
        capabilities: LinuxCapabilities(bounding: ["CAP_KILL"], effective: ["CAP_KILL"], inheritable: ["CAP_KILL"],
                                        permitted: ["CAP_KILL"], ambient: ["CAP_KILL"]),
        rlimits: [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 4096, soft: 1024)],
        noNewPrivileges: true,
        apparmorProfile: "safehouse-default",
        oomScoreAdj: 500,
        selinuxLabel: "system_u:system_r:container_t:s0",
        ioPriority: LinuxIOPriority(class: .idle, priority: 7),
        scheduler: Scheduler(policy: .deadline, nice: -5, priority: 10, flags: [.resetOnFork, .reclaim],
                             runtime: 10_000_000, deadline: 20_000_000, period: 30_000_000),
        execCPUAffinity: CPUAffinity(initial: "0", final: "0-3,7")
    ),
    root: Root(path: "/var/lib/agent/rootfs", readonly: true),
    hostname: "agent",
    domainname: "sandbox.local",
    mounts: [
        Mount(destination: "/proc", type: "proc", source: "proc"),
        Mount(destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "ro", "idmap"],
              uidMappings: [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 65_536)],
              gidMappings: [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 65_536)]),
    ],
    hooks: Hooks(
        prestart: [Hook(path: "/usr/bin/prestart")],
        createRuntime: [Hook(path: "/usr/bin/net-setup", args: ["net-setup", "--up"], env: ["X=1"], timeout: 10)],
        createContainer: [Hook(path: "/usr/bin/cc")],
        startContainer: [Hook(path: "/usr/bin/sc")],
        poststart: [Hook(path: "/usr/bin/ps")],
        poststop: [Hook(path: "/usr/bin/cleanup", timeout: 30)]
    ),
    annotations: ["io.safehouse.policy": "strict", "org.opencontainers.image.title": "agent"],
    linux: LinuxConfig(
        uidMappings: [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 65_536)],
        gidMappings: [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 65_536)],
        timeOffsets: ["boottime": LinuxTimeOffset(secs: -3600, nanosecs: 0), "monotonic": LinuxTimeOffset(secs: 86_400, nanosecs: 500)],
        sysctl: ["net.ipv4.ip_forward": "0", "kernel.shmmax": "68719476736"],
        resources: LinuxResources(
            devices: [LinuxDeviceCgroup(allow: false, access: "rwm"),
                      LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 229, access: "rw")],
            memory: LinuxMemory(limit: 536_870_912, reservation: 268_435_456, swap: -1, kernel: -1, kernelTCP: 1_048_576,
                                swappiness: 0, disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true),
            cpu: LinuxCPU(shares: 1024, quota: 50_000, burst: 10_000, period: 100_000, realtimeRuntime: 950_000,
                          realtimePeriod: 1_000_000, cpus: "0-3", mems: "0", idle: 0),
            pids: LinuxPids(limit: 128),
            blockIO: LinuxBlockIO(
                weight: 500, leafWeight: 300,
                weightDevice: [LinuxWeightDevice(major: 8, minor: 0, weight: 600, leafWeight: 200)],
                throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 104_857_600)],
                throttleWriteBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 52_428_800)],
                throttleReadIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1000)],
                throttleWriteIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 500)]),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 209_715_200)],
            network: LinuxNetwork(classID: 1_048_577, priorities: [LinuxInterfacePriority(name: "eth0", priority: 5)]),
            rdma: ["mlx5_1": LinuxRdma(hcaHandles: 3, hcaObjects: 10_000)],
            unified: ["memory.high": "400M"]
        ),
        cgroupsPath: "/safehouse/agent",
        namespaces: [
            LinuxNamespace(type: .pid), LinuxNamespace(type: .network, path: "/var/run/netns/agent"),
            LinuxNamespace(type: .mount), LinuxNamespace(type: .ipc), LinuxNamespace(type: .uts),
            LinuxNamespace(type: .user), LinuxNamespace(type: .cgroup), LinuxNamespace(type: .time),
        ],
        devices: [LinuxDevice(path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0)],
        seccomp: LinuxSeccomp(
            defaultAction: .errno, defaultErrnoRet: 1, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            flags: ["SECCOMP_FILTER_FLAG_LOG"], listenerPath: "/run/seccomp-agent.sock", listenerMetadata: "agent",
            syscalls: [
                LinuxSyscall(names: ["read", "write"], action: .allow),
                LinuxSyscall(names: ["personality"], action: .allow,
                             args: [LinuxSeccompArg(index: 0, value: 0, op: .equalTo),
                                    LinuxSeccompArg(index: 1, value: 255, valueTwo: 8, op: .maskedEqual)]),
                LinuxSyscall(names: ["mount"], action: .notify),
                LinuxSyscall(names: ["kexec_load"], action: .errno, errnoRet: 38),
            ]),
        rootfsPropagation: "rslave",
        maskedPaths: ["/proc/kcore"],
        readonlyPaths: ["/proc/sys"],
        mountLabel: "system_u:object_r:container_file_t:s0",
        intelRdt: LinuxIntelRdt(closID: "agent", l3CacheSchema: "L3:0=7f0", memBwSchema: "MB:0=20", enableCMT: true, enableMBM: true),
        personality: LinuxPersonality(domain: .linux32, flags: []),
        netDevices: ["eth1": LinuxNetDevice(name: "agent0")]
    )
)
