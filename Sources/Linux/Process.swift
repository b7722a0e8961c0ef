import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// How a process ended, in the shell's convention (128 + signal for a signal death).
public enum ExitStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    public init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signaled(status & 0x7f)
        }
    }

    public var shellCode: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }
}

public enum Processes {
    /// fork(2). Only safe while the process is single-threaded, which the runtime
    /// guarantees on its create path (no Dispatch, async or NIO before this point).
    public static func fork() throws -> Int32 {
        fflush(nil)
        return try syscall("fork") { sh_fork() }
    }

    /// fork(2) into a cgroup: the child starts in the cgroup v2 directory open at
    /// `cgroup` (clone3 CLONE_INTO_CGROUP), so nothing has to move it there later. A
    /// move (a write to cgroup.procs) takes the kernel's cgroup_threadgroup_rwsem for
    /// writing, which first waits for an RCU grace period: 1 to 10 ms here, more under
    /// load, and on the create path. nil when this kernel cannot (before 5.7): fork
    /// and move instead. Same safety rule as fork().
    public static func fork(intoCgroup cgroup: FileDescriptor) throws -> Int32? {
        try clone3(cgroup: cgroup, newNamespaces: 0)
    }

    /// fork(intoCgroup:) when `cgroup` is given and the kernel can, else fork();
    /// `inCgroup`: whether the child was born there (or must still be moved).
    public static func fork(preferringCgroup cgroup: FileDescriptor?) throws -> (pid: Int32, inCgroup: Bool) {
        if let cgroup, let pid = try fork(intoCgroup: cgroup) { return (pid, true) }
        return (try fork(), false)
    }

    /// fork(preferringCgroup:) with the child in new namespaces (clone flags, such as
    /// CLONE_NEWPID), made by clone3 itself: for a new pid namespace, one system call
    /// instead of four (open the caller's own, unshare, fork, setns back). nil when
    /// this kernel has no clone3 (before 5.3): the caller unshares instead.
    public static func fork(preferringCgroup cgroup: FileDescriptor?, newNamespaces flags: Int32) throws -> (pid: Int32, inCgroup: Bool)? {
        if let cgroup, let pid = try clone3(cgroup: cgroup, newNamespaces: flags) { return (pid, true) }
        guard let pid = try clone3(cgroup: nil, newNamespaces: flags) else { return nil }
        return (pid, false)
    }

    /// nil: clone3 (or CLONE_INTO_CGROUP) is not there, or refuses the cgroup.
    private static func clone3(cgroup: FileDescriptor?, newNamespaces flags: Int32) throws -> Int32? {
        fflush(nil)
        let pid = sh_clone3_fork(cgroup?.rawValue ?? -1, UInt64(UInt32(bitPattern: flags)))
        if pid >= 0 { return pid }
        let code = errno
        // ENOSYS, E2BIG: no clone3 or no CLONE_INTO_CGROUP; EINVAL: not a v2 directory
        // the kernel takes (a cgroup given), or no clone3 in its argument checks.
        if code == ENOSYS || code == E2BIG || (code == EINVAL && (cgroup != nil || flags == 0)) { return nil }
        let call = cgroup == nil ? "clone3" : "clone3 CLONE_INTO_CGROUP"
        throw SystemError(call: flags & SH_CLONE_NEWPID != 0 ? call + " CLONE_NEWPID" : call, errno: code)
    }

    public static func wait(_ pid: Int32) throws -> ExitStatus {
        var status: Int32 = 0
        try syscall("waitpid") { waitpid(pid, &status, 0) }
        return ExitStatus(waitStatus: status)
    }

    /// Reaps any exited child without blocking; nil when none has exited.
    public static func reapAny() -> (pid: Int32, status: ExitStatus)? {
        var status: Int32 = 0
        let pid = waitpid(-1, &status, WNOHANG)
        guard pid > 0 else { return nil }
        return (pid, ExitStatus(waitStatus: status))
    }

    public static func signal(_ pid: Int32, _ signal: Signal) throws {
        try syscall("kill") { Glibc.kill(pid, signal.rawValue) }
    }

    /// True when `pid` exists and is not a zombie.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, let state = statFields(of: pid)?.first else { return false }
        return state != "Z" && state != "X"
    }

    /// The start time of a process (field 22 of /proc/PID/stat, in clock ticks since
    /// boot): with the pid it names one process, so a recycled pid is not mistaken for
    /// the container's init.
    public static func startTime(of pid: Int32) -> UInt64? {
        // Over the bytes (no split): this runs on every lifecycle command.
        guard let bytes = try? Files.read("/proc/\(pid)/stat", limit: 4096),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After ") ": field 3 (state) is the first; field 22 follows 19 spaces.
        var field = 2, i = close + 1, value: UInt64 = 0, digits = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: " ") {
                if field == 22 { break }
                field += 1
            } else if field == 22 {
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                value = value &* 10 &+ UInt64(b - UInt8(ascii: "0"))
                digits += 1
            }
            i += 1
        }
        return field == 22 && digits > 0 ? value : nil
    }

    /// The parent of a process, from /proc/PID/stat.
    public static func parent(of pid: Int32) -> Int32? {
        guard let fields = statFields(of: pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
    }

    /// The fields of /proc/PID/stat after the command name (state first).
    private static func statFields(of pid: Int32) -> [Substring]? {
        guard let stat = try? Files.readString("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// Every pid on the system, from /proc.
    public static func all() -> [Int32] {
        ((try? Files.list("/proc")) ?? []).compactMap { Int32($0) }
    }

    /// Waits until `pid` has exited (it need not be our child), up to `timeout` seconds.
    /// Uses a pidfd, which becomes readable when the process exits.
    public static func waitForExit(_ pid: Int32, timeout: Double) -> Bool {
        let fd = sh_pidfd_open(pid)
        if fd < 0 { return true }  // ESRCH: already gone
        defer { _ = close(fd) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(timeout * 1000)
        while true {
            let r = poll(&pfd, 1, ms)
            if r < 0 && errno == EINTR { continue }
            return r > 0
        }
    }

    /// The executable `name` in the directory of the running one (safehouse finds
    /// safehouse-warden and safehouse-audit there), or nil when it is not executable.
    public static func siblingExecutable(_ name: String) -> String? {
        guard let exe = try? Files.readLink("/proc/self/exe"), let slash = exe.lastIndex(of: "/") else { return nil }
        let path = String(exe[...slash]) + name
        return access(path, X_OK) == 0 ? path : nil
    }

    /// execve(2) with argv and envp built from Swift strings; returns only on failure.
    public static func exec(path: String, args: [String], env: [String]) -> SystemError {
        // Raw buffers, not [UnsafeMutablePointer<CChar>?] arrays: the Swift runtime
        // builds that array type from its mangled name (~1% of an init's set-up),
        // and this runs between `start` and the user's program.
        let cArgs = cStringVector(args)
        let cEnv = cStringVector(env)
        execve(path, cArgs, cEnv)
        let code = errno
        for list in [cArgs, cEnv] {
            var i = 0
            while let p = list[i] { free(p); i += 1 }
            list.deallocate()
        }
        return SystemError(call: "exec", path: path, errno: code)
    }

    /// A NULL-terminated vector of strdup'd C strings.
    private static func cStringVector(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let vector = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (i, s) in strings.enumerated() { vector[i] = strdup(s) }
        vector[strings.count] = nil
        return vector
    }

    /// Finds `command` the way execvp does: as a path when it has a slash, otherwise in
    /// each directory of PATH (from `env`, or the default runc uses).
    public static func lookPath(_ command: String, env: [String], root: String = "") -> String? {
        func isExecutable(_ p: String) -> Bool {
            var st = Glibc.stat()
            return fstatat(AT_FDCWD, root + p, &st, 0) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(root + p, X_OK) == 0
        }
        if command.contains("/") { return isExecutable(command) ? command : nil }
        let path = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let d = dir.isEmpty ? "." : String(dir)
            let candidate = d + "/" + command
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }
}
