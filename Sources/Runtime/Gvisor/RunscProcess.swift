import ContainerCore
import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// One run of the `runsc` binary: the gvisor backend's only way to act.
///
/// Three shapes, each for a reason. `replace` execs runsc in place of safehouse:
/// stdio, the exit code and the console socket are then exactly runsc's, for verbs
/// with nothing to do afterwards. `spawn` forks with the caller's stdio
/// (create, run, exec: the container's process gets runsc's stdio, so it must stay
/// ours). `capture` collects stdout and stderr (state, and the control verbs whose
/// errors are mapped to runc's words, RunscError).
struct RunscProcess {
    let executable: String
    /// The arguments after argv[0].
    let arguments: [String]

    var argv: [String] { [executable] + arguments }

    /// Runs runsc in a mount namespace of its own in which /proc/sys/net is an empty,
    /// read-only tmpfs. Needed by `runsc start` of a sandbox with `--network=sandbox`:
    /// this runsc (20221219) refuses to set up its netstack when it can see
    /// /proc/sys/net/core/rmem_default from the sandbox's network namespace, taking it
    /// for the host's ("cannot run with network enabled in root network namespace");
    /// since Linux 6.x (this machine runs 6.18) every network namespace has that file
    /// (gVisor issue 10704, fixed upstream after this release). `start` and, for a
    /// sandbox with egress, `restore`, which makes the sandbox and sets up its
    /// netstack in one step: its sandbox mounts its own /proc in a user namespace, which
    /// the kernel refuses while every proc mount it can see is covered ("too
    /// revealing"), so a whole proc is mounted inside the covering tmpfs too.
    var hidesNetSysctls = false

    /// The directories runsc is looked for in when the config does not name it.
    static let searchPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static func locate(configured: String?) throws -> String {
        if let configured {
            guard access(configured, X_OK) == 0 else {
                throw RuntimeError("gvisor: runsc \(configured) (from safehouse.conf): \(SystemError.message(for: errno))")
            }
            return configured
        }
        guard let path = Processes.lookPath("runsc", env: [searchPath]) else {
            throw RuntimeError("gvisor: runsc not found in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin (apt-get install runsc, or set runsc = PATH in the root's safehouse.conf)")
        }
        return path
    }

    /// Replaces this process with runsc. Returns only if the exec failed.
    func replace() -> RuntimeError {
        fflush(nil)
        Signals.resetForExec()
        let error = Processes.exec(path: executable, args: argv, env: Self.environment())
        return RuntimeError("gvisor: \(error)")
    }

    /// Starts runsc as a child with our stdio.
    func spawn() throws -> Int32 {
        try fork { if hidesNetSysctls { Self.hideNetSysctls() } }
    }

    /// Forks a child that runs `prepare` (system calls only) and then execs runsc,
    /// with its signals reset (the caller may have blocked the ones it forwards).
    private func fork(_ prepare: () -> Void) throws -> Int32 {
        let env = Self.environment()
        fflush(nil)
        let pid = try Processes.fork()
        if pid == 0 {
            prepare()
            Signals.resetForExec()
            _ = Processes.exec(path: executable, args: argv, env: env)
            _exit(127)
        }
        return pid
    }

    /// Runs runsc to its end with stdin from `stdin` and stdout and stderr appended to
    /// `output` (for a runsc that leaves a process behind holding its stdio).
    func run(stdin: String, output: String) throws -> ExitStatus {
        let input = try FileDescriptor.open(stdin, O_RDONLY)
        let log = try FileDescriptor.open(output, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
        let pid = try fork {
            _ = dup2(input.rawValue, 0)
            _ = dup2(log.rawValue, 1)
            _ = dup2(log.rawValue, 2)
        }
        input.close()
        log.close()
        return try Processes.wait(pid)
    }

    /// Runs `runsc VERB ...` on container `id` to its end, captured; its stdout, or
    /// runsc's failure in runc's words (RunscError).
    func checked(verb: String, id: String) throws -> String {
        let result = try capture()
        guard result.status == .exited(0) else {
            throw RunscError.message(verb: verb, id: id, runscText: result.stderr)
        }
        return result.stdout
    }

    /// Runs runsc to its end with stdin on /dev/null and stdout and stderr captured.
    /// runsc's outputs here are small (a state document, a line of error): stdout is
    /// read to its end first, then stderr, which a pipe's buffer holds meanwhile.
    func capture() throws -> (status: ExitStatus, stdout: String, stderr: String) {
        let (outRead, outWrite) = try FileDescriptor.pipe()
        let (errRead, errWrite) = try FileDescriptor.pipe()
        let pid = try fork {
            let null = open("/dev/null", O_RDONLY)
            if null >= 0 { _ = dup2(null, 0) }
            _ = dup2(outWrite.rawValue, 1)
            _ = dup2(errWrite.rawValue, 2)
            if hidesNetSysctls { Self.hideNetSysctls() }
        }
        outWrite.close()
        errWrite.close()
        let out = (try? outRead.readAll(limit: 16 << 20)) ?? []
        let err = (try? errRead.readAll(limit: 1 << 20)) ?? []
        outRead.close()
        errRead.close()
        let status = try Processes.wait(pid)
        return (status, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// In the forked child before exec (system calls only): a private mount namespace
    /// (nothing propagates back to the host's) with /proc/sys/net covered. On failure
    /// says which step on stderr (runsc's, which the caller reads) and exits 126.
    static func hideNetSysctls() {
        let steps: [(String, () -> Int32)] = [
            ("unshare(CLONE_NEWNS)", { sh_unshare(SH_CLONE_NEWNS) }),
            ("make / private", { sh_mount("none", "/", nil, SH_MS_REC | SH_MS_PRIVATE, nil) }),
            ("mount a tmpfs on /proc/sys/net", {
                sh_mount("safehouse-hide", "/proc/sys/net", "tmpfs", SH_MS_NOSUID | SH_MS_NODEV | SH_MS_NOEXEC, "size=4k,mode=0555")
            }),
            // A proc left whole, where no one looks: a sandbox runsc makes in this
            // namespace (`runsc restore`) mounts its own /proc in a user namespace,
            // which the kernel allows only while some proc mount is fully visible
            // (the covered /proc is "too revealing").
            ("make /proc/sys/net/proc", { mkdir("/proc/sys/net/proc", 0o555) }),
            ("mount a proc on /proc/sys/net/proc", {
                sh_mount("proc", "/proc/sys/net/proc", "proc", SH_MS_NOSUID | SH_MS_NODEV | SH_MS_NOEXEC, nil)
            }),
            ("make the tmpfs on /proc/sys/net read-only", {
                sh_mount("none", "/proc/sys/net", nil, SH_MS_REMOUNT | SH_MS_RDONLY | SH_MS_NOSUID | SH_MS_NODEV | SH_MS_NOEXEC, nil)
            }),
        ]
        for (what, step) in steps where step() != 0 {
            let line = "gvisor: runsc in a mount namespace without /proc/sys/net: \(what): \(SystemError.message(for: errno))\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            _exit(126)
        }
    }

    /// Our environment, passed on (runsc reads none of it for its own decisions, but
    /// its children inherit it as runc's would).
    static func environment() -> [String] {
        var env: [String] = []
        var p = environ
        while let entry = p.pointee {
            env.append(String(cString: entry))
            p += 1
        }
        return env
    }
}
