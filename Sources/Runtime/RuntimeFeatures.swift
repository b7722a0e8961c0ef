import OCI

/// The runtime-spec features document (`safehouse features`): what this build really
/// implements. It grows with the code; it never claims what is not done.
public enum RuntimeFeatures {
    public static var document: Features {
        Features(
            ociVersionMin: "1.0.0",
            ociVersionMax: specVersion,
            hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            mountOptions: MountOptions.knownNames.sorted(),
            linux: Features.Linux(
                namespaces: ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
                capabilities: knownCapabilities,
                // Resource control and seccomp arrive with the confinement work.
                cgroup: Features.Cgroup(v1: false, v2: false, systemd: false, systemdUser: false, rdma: false),
                seccomp: Features.Seccomp(enabled: false),
                apparmor: Features.Apparmor(enabled: false),
                selinux: Features.Selinux(enabled: false)
            ),
            annotations: ["io.safehouse.version": "0.1.0"]
        )
    }
}
