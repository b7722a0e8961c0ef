import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The end of a sandbox whose foreground owner (`agent run`, or `run` of an annotated
/// bundle) died before it: the warden has stopped it and written its report; the rest
/// of what the owner would have done is `safehouse delete --force`'s: the audit
/// records (from the report: why it ended), the change set, /output given back to its
/// owner (OutputOwnership), and the cgroups, mounts, ephemeral root, state and the
/// generated bundle removed. Spawned, not awaited: delete waits for this warden to exit
/// before it reads the report, so waiting here would make each wait for the other.
enum Abandonment {
    static func removeSandbox(stateDirectory: String) {
        guard let safehouse = Processes.siblingExecutable("safehouse") else { return }
        let root = String(stateDirectory[..<(stateDirectory.lastIndex(of: "/") ?? stateDirectory.startIndex)])
        let id = String(stateDirectory.split(separator: "/").last ?? "")
        guard !root.isEmpty, !id.isEmpty else { return }
        let args = [safehouse, "--root", root, "delete", "--force", id]
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        _ = sh_spawn_addclosefrom(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        _ = posix_spawn(&pid, safehouse, &actions, &attr, &cArgs, &cEnv)
    }
}
