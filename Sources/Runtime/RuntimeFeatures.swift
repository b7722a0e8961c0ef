import OCI
import Seccomp

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
                // cgroupfs on v1, v2 and hybrid hosts; no systemd driver (no systemd here).
                cgroup: Features.Cgroup(v1: true, v2: true, systemd: false, systemdUser: false, rdma: false),
                seccomp: Features.Seccomp(enabled: true, actions: SeccompSupport.actions,
                                          operators: SeccompSupport.operators, archs: SeccompSupport.architectures,
                                          knownFlags: SeccompSupport.flags, supportedFlags: SeccompSupport.flags),
                apparmor: Features.Apparmor(enabled: false),
                selinux: Features.Selinux(enabled: false)
            ),
            annotations: ["io.safehouse.version": "0.1.0"]
        )
    }
}
