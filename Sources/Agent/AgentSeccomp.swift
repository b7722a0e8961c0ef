import OCI

/// The two seccomp profiles a policy can ask for.
///
/// `agent`: everything is allowed except the families an agent has no business with
/// and that widen the kernel surface an escape would use: kernel modules, mounts,
/// bpf, ptrace and other processes' memory, keyrings, perf, kexec and reboot, swap,
/// clocks, io_uring, handles to arbitrary inodes, and new user namespaces (through
/// unshare or clone; clone3 answers ENOSYS so libc falls back to clone, whose flags a
/// filter can see). These fail with EPERM, so programs see an ordinary refusal.
/// Sockets of families other than unix, inet, inet6 and netlink fail with
/// EAFNOSUPPORT (AgentSeccomp+Sockets.swift), in both profiles.
/// Other architectures' system call tables are not allowed at all (libseccomp's
/// bad-architecture action), which closes the 32-bit entry points.
///
/// `minimal`: nothing is allowed unless listed: the calls ordinary programs (shells,
/// interpreters, compilers, coreutils) use. Anything else answers ENOSYS, which
/// makes libraries take their fallbacks. clone may not create namespaces.
public enum AgentSeccomp {
    static let EPERM: UInt32 = 1
    static let ENOSYS: UInt32 = 38
    static let cloneNewUser: UInt64 = 0x1000_0000
    /// Every CLONE_NEW* flag (time, mount, cgroup, uts, ipc, user, pid, net).
    static let cloneNewAny: UInt64 = 0x0000_0080 | 0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000

    static var nativeArchitectures: [String] {
        #if arch(x86_64)
        return ["SCMP_ARCH_X86_64"]
        #elseif arch(arm64)
        return ["SCMP_ARCH_AARCH64"]
        #else
        return []
        #endif
    }

    public static let deniedFamilies: [String] = [
        // kernel modules
        "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
        // mounts and the new mount API
        "mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
        "open_tree", "mount_setattr",
        // bpf, perf
        "bpf", "perf_event_open",
        // other processes
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
        // keyrings
        "add_key", "request_key", "keyctl",
        // the machine itself
        "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime", "syslog", "iopl", "ioperm",
        "vhangup", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "lookup_dcookie", "vm86", "vm86old",
        "move_pages", "migrate_pages", "mbind", "set_mempolicy", "set_mempolicy_home_node",
        // inodes by handle, userfaultfd, io_uring, namespaces
        "open_by_handle_at", "name_to_handle_at", "userfaultfd", "io_uring_setup", "io_uring_enter",
        "io_uring_register", "setns", "fanotify_init",
    ]

    public static let minimalAllowed: [String] = [
        "accept", "accept4", "access", "alarm", "arch_prctl", "bind", "brk", "capget", "capset", "chdir", "chmod",
        "chown", "clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range", "connect",
        "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2", "execve", "execveat", "exit",
        "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate", "fchdir", "fchmod", "fchmodat",
        "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork",
        "fstat", "fstatfs", "fsync", "ftruncate", "futex", "futex_waitv", "getcpu", "getcwd", "getdents",
        "getdents64", "getegid", "geteuid", "getgid", "getgroups", "getitimer", "getpeername", "getpgid",
        "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresuid", "getrlimit",
        "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday",
        "getuid", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "ioctl",
        "kill", "lchown", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "lseek", "lstat",
        "madvise", "membarrier", "memfd_create", "mincore", "mkdir", "mkdirat", "mmap", "mprotect", "mremap",
        "msync", "munmap", "nanosleep", "newfstatat", "open", "openat", "openat2", "pause", "pipe", "pipe2",
        "poll", "ppoll", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "pselect6", "pwrite64", "pwritev",
        "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg",
        "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_setaffinity", "sched_yield", "select", "sendfile",
        "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsuid", "setgid", "setgroups", "setitimer", "setpgid",
        "setpriority", "setregid", "setresgid", "setresuid", "setreuid", "setsid", "setsockopt", "set_robust_list",
        "set_tid_address", "setuid", "shutdown", "sigaltstack", "splice", "stat", "statfs",
        "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
        "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create",
        "timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate", "umask", "uname", "unlink", "unlinkat",
        "utime", "utimensat", "utimes", "vfork", "wait4", "waitid", "write", "writev", "getxattrat", "pidfd_open",
        "pidfd_send_signal", "sched_getattr", "uretprobe",
    ]

    public static func profile(_ kind: Policy.SyscallProfile) -> LinuxSeccomp {
        switch kind {
        case .agent:
            return LinuxSeccomp(
                defaultAction: .allow,
                architectures: nativeArchitectures,
                syscalls: [
                    LinuxSyscall(names: deniedFamilies, action: .errno, errnoRet: EPERM),
                    LinuxSyscall(names: ["clone3"], action: .errno, errnoRet: ENOSYS),
                    LinuxSyscall(names: ["unshare", "clone"], action: .errno, errnoRet: EPERM,
                                 args: [LinuxSeccompArg(index: 0, value: cloneNewUser, valueTwo: cloneNewUser, op: .maskedEqual)]),
                ] + socketRefusals)
        case .minimal:
            return LinuxSeccomp(
                defaultAction: .errno, defaultErrnoRet: ENOSYS,
                architectures: nativeArchitectures,
                syscalls: [
                    LinuxSyscall(names: minimalAllowed, action: .allow),
                    LinuxSyscall(names: ["clone"], action: .allow,
                                 args: [LinuxSeccompArg(index: 0, value: cloneNewAny, valueTwo: 0, op: .maskedEqual)]),
                ] + socketAllowances + socketRefusals)
        }
    }
}
