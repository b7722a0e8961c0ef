import ContainerCore
import OCI

/// How safehouse's command line becomes runsc's (pure: `GvisorTranslationTests`).
///
/// runsc's global flags are of two kinds. Those fixed when the sandbox is made
/// (`--root`, `--network`, `--overlay2`, `--oci-seccomp`, `--debug-log`) are worked
/// out once at create and kept in the container's state (`ContainerRecord.runscFlags`),
/// so every later command passes runsc exactly what created the sandbox. Those of one
/// invocation (`--log`, `--log-format`, `--debug`) come from that invocation's own
/// global flags, as the engine gave them. `--platform` is never passed: ptrace, the
/// default, is the platform that works here (kvm hangs on this machine kind).
public struct RunscFlags: Sendable, Equatable {
    /// runsc's network mode for one sandbox.
    public enum Network: String, Sendable {
        /// runsc's own netstack, with the interfaces of the namespace it runs in.
        case sandbox
        /// The host kernel's network stack of the namespace the sandbox runs in.
        case host
        /// A netstack with loopback only.
        case none
    }

    /// runsc's network for a spec.
    ///
    /// - no network namespace in the spec: the container shares its caller's network
    ///   (as native): `host`.
    /// - a namespace to join (Podman's, a CRI pod's): `sandbox`, which copies that
    ///   namespace's interfaces and routes into gVisor's netstack.
    /// - a new namespace: `none`. Native gives such a container loopback only; runsc's
    ///   `sandbox` mode refuses a namespace it must make itself ("cannot run with
    ///   network enabled in root network namespace" on this machine), and `none` is
    ///   exactly loopback inside gVisor.
    /// - an agent sandbox with an egress allowlist: `sandbox`, over the veth end that
    ///   safehouse puts into the namespace runsc made, between create and start
    ///   (GvisorEgressLink, which says why not `host`). `sandbox` refuses only a
    ///   namespace it must make with nothing in it at start.
    /// - an agent sandbox without an allowlist (`policyWithoutNetwork`) in a namespace
    ///   to join: `none`, as `agent run` gives it: the interfaces an engine put in that
    ///   namespace would be a way out the policy does not allow.
    public static func network(for spec: Spec, egress: Bool, policyWithoutNetwork: Bool = false) -> Network {
        guard let ns = spec.linux?.namespaces?.first(where: { $0.type == .network }) else { return .host }
        if egress { return .sandbox }
        if let path = ns.path, !path.isEmpty, !policyWithoutNetwork { return .sandbox }
        return .none
    }

    /// The flags fixed at create, after `--root`.
    public static func sandboxFlags(runscRoot: String, network: Network, seccomp: Bool,
                                    overlay: String?, debugLog: String?) -> [String] {
        var flags = ["--root", runscRoot, "--network=" + network.rawValue]
        // runsc ignores the spec's seccomp unless told: the agent profile must hold
        // inside the sandbox too.
        if seccomp { flags.append("--oci-seccomp") }
        if let overlay { flags.append("--overlay2=" + overlay) }
        if let debugLog { flags += ["--debug-log", debugLog] }
        return flags
    }

    /// The flags of one invocation: runc's `--log`, `--log-format` and `--debug` mean
    /// the same to runsc (its JSON log carries `msg` and `level`, which containerd's
    /// shim reads). Without `--log`, runsc's log goes to /dev/null: its errors still
    /// reach stderr, once.
    public static func invocationFlags(log: String?, logFormat: String, debug: Bool) -> [String] {
        var flags = ["--log", log ?? "/dev/null"]
        if logFormat == "json" { flags.append("--log-format=json") }
        if debug { flags.append("--debug") }
        return flags
    }

    /// runsc's `--overlay2` syntax: `none`, or `{root|all}:{memory|/absolute/dir}`.
    public static func isOverlaySetting(_ value: String) -> Bool {
        if value == "none" { return true }
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == "root" || parts[0] == "all" else { return false }
        return parts[1] == "memory" || parts[1].hasPrefix("/")
    }

    /// runc's `events --interval` ("5s", "5", "1.5s") as runsc's whole seconds (at least 1).
    public static func intervalSeconds(_ text: String) -> Int? {
        let number = text.hasSuffix("s") ? String(text.dropLast()) : text
        guard let seconds = Double(number), seconds > 0 else { return nil }
        return max(1, Int(seconds.rounded(.up)))
    }
}
