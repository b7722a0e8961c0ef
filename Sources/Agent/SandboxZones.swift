import Linux
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The host directories of an `agent run`, /input and /output, each resolved once
/// (HostDirectory: a symlink anywhere in the path is refused) and used only through
/// the descriptor from then on: the mount, and for /output the bounded zone over it
/// and the copy back (OutputZone). A path is never looked up a second time, so a
/// symlink or a rename a sandbox left behind cannot redirect a later run.
public struct SandboxZones {
    public let input: HostDirectory?
    public let output: HostDirectory?

    /// Opens the policy's zones; a missing output directory is made (mkdir -p through
    /// descriptors). Every refusal names the flag and the path.
    init(_ policy: Policy) throws {
        do { input = try policy.filesystem.input.map { try HostDirectory.open($0) } } catch {
            throw PolicyError("--input: \(error)")
        }
        do { output = try policy.filesystem.output.map { try HostDirectory.open($0, creating: true) } } catch {
            throw PolicyError("--output: \(error)")
        }
    }

    /// The bound on /output: `filesystem.outputSize`, else the disk limit.
    public static func outputSize(_ policy: Policy) -> UInt64 { policy.filesystem.outputSize ?? policy.limits.disk }

    /// /output mounted for the run: its record (saved in the bundle first, so that
    /// `delete --force` copies back after a killed run), the held directory and the
    /// zone's merged directory, which `spec`'s /output mount now names and `options`
    /// hands to the runtime as a descriptor.
    struct Output {
        let ownership: OutputOwnership
        let directory: HostDirectory
        /// Held for the runtime (bindSourceDescriptors names its number) until create
        /// has taken the tree from it.
        let merged: FileDescriptor
    }

    func mountOutput(policy: Policy, bundle: String, spec: inout Spec, options: inout CreateOptions) throws -> Output? {
        guard let output else { return nil }
        let user = policy.user
        let first = try Self.firstHostID(user)
        let ids: ClosedRange<UInt32> = first.map { $0...($0 + user.idCount - 1) } ?? 0...UInt32.max
        let ownership: OutputOwnership
        do { ownership = try OutputOwnership(of: output, sandboxIDs: ids) } catch { throw PolicyError("--output: \(error)") }
        try ownership.save(inBundle: bundle)
        // The process's own ids own the top of /output (as the host sees them).
        let writer = first.map { (uid: $0 + user.uid, gid: $0 + user.gid) } ?? (uid: user.uid, gid: user.gid)
        let merged: FileDescriptor
        do {
            merged = try OutputZone.mount(output: output, bundle: bundle, sizeBytes: Self.outputSize(policy),
                                          writer: writer, zoneGroup: first)
        } catch {
            OutputZone.finish(bundle: bundle, ownership: ownership, held: output)
            throw PolicyError("--output: \(output.path): bounded /output: \(error)")
        }
        Self.bind("/output", to: OutputZone.merged(inBundle: bundle), merged, spec: &spec, options: &options)
        return Output(ownership: ownership, directory: output, merged: merged)
    }

    /// /input: bind-mounted from its descriptor into the bundle (InputZone), which
    /// the spec's /input now names; the runtime attaches it from the descriptor.
    func mountInput(bundle: String, spec: inout Spec, options: inout CreateOptions) throws {
        guard let input else { return }
        let path: String
        do { path = try InputZone.mount(input: input, bundle: bundle) } catch {
            InputZone.remove(bundle: bundle)
            throw PolicyError("--input: \(input.path): \(error)")
        }
        Self.bind("/input", to: path, input.fd, spec: &spec, options: &options)
    }

    /// `spec`'s mount at `destination` made from `path`, which the runtime attaches
    /// from `fd`.
    private static func bind(_ destination: String, to path: String, _ fd: FileDescriptor, spec: inout Spec, options: inout CreateOptions) {
        for i in (spec.mounts ?? []).indices where spec.mounts?[i].destination == destination {
            spec.mounts?[i].source = path
        }
        options.bindSourceDescriptors[path] = fd.rawValue
    }

    /// The first host id of the sandbox's user namespace (the effective policy chose it
    /// clear of /etc/subuid); nil without a user namespace.
    private static func firstHostID(_ user: Policy.UserMapping) throws -> UInt32? {
        guard user.userNamespace else { return nil }
        guard let first = user.hostID else { throw PolicyError("user.hostID: no host id range was chosen") }
        return first
    }

    /// The bundle, which holds the zones, enterable by the sandbox root's group (not
    /// listable): runsc's gofer runs as that id and opens the zones by path.
    func openBundle(_ bundle: String, policy: Policy) throws {
        guard input != nil || output != nil, let first = try Self.firstHostID(policy.user) else { return }
        try syscall("chown", bundle) { Glibc.chown(bundle, 0, first) }
        try syscall("chmod", bundle) { Glibc.chmod(bundle, 0o710) }
    }
}
