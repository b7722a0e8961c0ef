import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// posix_spawn, the way safehouse starts its helper executables (`safehouse-audit`,
/// `safehouse delete`) from processes that may be threaded (the warden runs NIO):
/// an empty signal mask (callers block the signals they forward or read from a
/// signalfd), SIGPIPE back to its default (NIO ignores it), a fixed minimal PATH.
public enum Spawn {
    public enum Stdio {
        /// The caller's standard input, output and error, and its other inheritable
        /// descriptors.
        case inherit
        /// /dev/null for input and output, standard error to `stderr` (or /dev/null),
        /// and no other descriptor.
        case quiet(stderr: Int32?)
        /// /dev/null for input and error, standard output to `stdout`, no other
        /// descriptor, and a process group of its own (so whatever it starts can be
        /// killed with it: the warden's egress decider).
        case captured(stdout: Int32)
    }

    /// Starts `args` (argv[0] included) from `executable`; its pid, or the error.
    public static func start(_ executable: String, _ args: [String], stdio: Stdio) -> Result<pid_t, SystemError> {
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if case .quiet(let stderr) = stdio {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            if let stderr {
                posix_spawn_file_actions_adddup2(&actions, stderr, 2)
            } else {
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            }
            _ = sh_spawn_addclosefrom(&actions, 3)
        }
        if case .captured(let stdout) = stdio {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            _ = sh_spawn_addclosefrom(&actions, 3)
        }
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
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if case .captured = stdio {
            posix_spawnattr_setpgroup(&attr, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { return .failure(SystemError(call: "spawn", path: executable, errno: rc)) }
        return .success(pid)
    }

    /// Waits for `pid` (EINTR retried); its wait status.
    public static func wait(_ pid: pid_t) -> Result<Int32, SystemError> {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return .failure(SystemError(call: "waitpid", errno: errno)) }
        }
        return .success(status)
    }
}
