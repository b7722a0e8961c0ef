import ContainerCore
import Linux
import OCI

/// What `create` on gvisor checks before runsc starts: runsc looks for the process's
/// program only at `start`, while runc (and native) fail `create` when it is missing,
/// with Go's exec.LookPath words ("no such file or directory", which Podman turns into
/// 127). Checked in the bundle's root filesystem on the host; a program that a mount
/// of the spec may provide is left to runsc.
enum GvisorPreflight {
    static func checkExecutable(_ process: OCI.Process, rootfs: String, mounts: [Mount]) throws {
        guard let command = process.args?.first, !command.isEmpty else {
            throw RuntimeError("process.args must not be empty")
        }
        let env = process.env ?? []
        if Processes.lookPath(command, env: env, root: rootfs) != nil { return }
        let destinations = mounts.map(\.destination).filter { $0 != "/" }
        func shadowed(_ path: String) -> Bool { destinations.contains { path == $0 || path.hasPrefix($0 + "/") } }
        if command.contains("/") {
            guard command.hasPrefix("/"), !shadowed(command) else { return }
            if Files.exists(rootfs + command) { throw RuntimeError("exec: \"\(command)\": permission denied") }
            throw RuntimeError("exec: \"\(command)\": stat \(command): no such file or directory")
        }
        let path = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        if path.split(separator: ":").contains(where: { shadowed(String($0)) || !$0.hasPrefix("/") }) { return }
        throw RuntimeError("exec: \"\(command)\": executable file not found in $PATH")
    }

    /// Every bind source exists: runsc's gofer finds a missing one only once the
    /// sandbox is starting, and runsc then says no more than "cannot read client sync
    /// file: EOF". Named as the native backend names it (the mount, then stat's error).
    static func checkBindSources(_ mounts: [Mount], bundle: String) throws {
        for (index, mount) in mounts.enumerated() {
            guard MountOptions(mount.options ?? []).isBind || mount.type == "bind",
                  var source = mount.source, !source.isEmpty else { continue }
            if !source.hasPrefix("/") { source = bundle + "/" + source }
            _ = try stage("mount mounts[\(index)] \(mount.destination)") { try Files.status(source) }
        }
    }
}
