import ContainerCore
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
            annotations: ["io.safehouse.version": "0.1.0", "io.safehouse.backend": "native",
                          "io.safehouse.backends": "native,gvisor"]
        )
    }

    /// What the gvisor backend supports, for `safehouse --backend gvisor features`:
    /// what runsc (Debian's 20221219 build) does with a spec, in the document's terms,
    /// and, under `io.safehouse.gvisor.unsupported`, what safehouse refuses on that
    /// backend with a one-line error rather than pretend.
    public static var gvisorDocument: Features {
        var features = document
        // safehouse runs these on the host (GvisorSandboxBundle.hostHookKinds);
        // createContainer and startContainer (inside the container's namespaces,
        // gVisor's) runsc does not run.
        features.hooks = ["prestart", "createRuntime", "poststart", "poststop"]
        features.mountOptions = ["bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec", "private", "rprivate",
                                 "shared", "rshared", "slave", "rslave"]
        // gVisor's own, inside the sandbox (no cgroup or time namespace).
        features.linux?.namespaces = ["ipc", "mount", "network", "pid", "user", "uts"]
        // The spec's filter is loaded inside the sandbox (runsc --oci-seccomp,
        // which safehouse passes whenever the spec has one).
        features.linux?.seccomp?.archs = ["SCMP_ARCH_X86_64"]
        features.linux?.seccomp?.supportedFlags = []
        features.annotations = ["io.safehouse.version": "0.1.0", "io.safehouse.backend": "gvisor",
                                "io.safehouse.backends": "native,gvisor",
                                "io.safehouse.gvisor.platform": "ptrace",
                                "io.safehouse.gvisor.unsupported": "--preserve-fds,LISTEN_FDS,--no-pivot"]
        return features
    }

    public static func document(for backend: Backend) -> Features {
        backend == .gvisor ? gvisorDocument : document
    }
}
