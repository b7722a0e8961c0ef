// See CLinux.h: one thin wrapper per facility, errno preserved.
#define _GNU_SOURCE
#include "CLinux.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/statvfs.h>
#include <sys/signalfd.h>

#include <linux/sched.h>
#include <linux/futex.h>
#include <stdint.h>

int sh_unshare(int flags) { return unshare(flags); }
int sh_setns(int fd, int nstype) { return setns(fd, nstype); }
int sh_pivot_root(const char *n, const char *o) { return (int)syscall(SYS_pivot_root, n, o); }
int sh_mount(const char *s, const char *t, const char *f, unsigned long fl, const char *d) {
    return mount(s, t, f, fl, d);
}
int sh_umount2(const char *t, int f) { return umount2(t, f); }
int sh_sethostname(const char *n, size_t l) { return sethostname(n, l); }
int sh_setdomainname(const char *n, size_t l) { return setdomainname(n, l); }
pid_t sh_fork(void) { return fork(); }

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

// What glibc's _Fork does, through clone3 so that the child can be born in its cgroup:
// the kernel writes the child's thread id where glibc caches it (the address glibc
// gave set_tid_address at start-up, read back with PR_GET_TID_ADDRESS) and clears it
// at exit (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID, as _Fork asks), and the child
// registers the same robust-futex list head again (the kernel resets it in a new
// task). Without the first, glibc would keep the parent's id in the child (raise,
// pthread_self-based locks). fork()'s atfork handlers do not run: the caller is
// single-threaded and registers none it needs.
// `cgroup_fd` < 0: no CLONE_INTO_CGROUP. `flags`: more clone flags (new namespaces).
pid_t sh_clone3_fork(int cgroup_fd, uint64_t flags) {
    int *tid_address = NULL;
    if (prctl(PR_GET_TID_ADDRESS, &tid_address, 0, 0, 0) != 0) return -1;
    if (tid_address == NULL) { errno = ENOSYS; return -1; }
    struct robust_list_head *robust = NULL;
    size_t robust_len = 0;
    if (syscall(SYS_get_robust_list, 0, &robust, &robust_len) != 0) return -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | flags;
    args.child_tid = (uint64_t)(uintptr_t)tid_address;
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0 && robust != NULL) syscall(SYS_set_robust_list, robust, robust_len);
    return (pid_t)pid;
}

int sh_prctl(int o, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(o, a2, a3, a4, a5);
}

int sh_capget(uint64_t *eff, uint64_t *perm, uint64_t *inh) {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) < 0) return -1;
    *eff = (uint64_t)d[0].effective | ((uint64_t)d[1].effective << 32);
    *perm = (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
    *inh = (uint64_t)d[0].inheritable | ((uint64_t)d[1].inheritable << 32);
    return 0;
}

int sh_capset(uint64_t eff, uint64_t perm, uint64_t inh) {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    d[0].effective = (uint32_t)eff;  d[1].effective = (uint32_t)(eff >> 32);
    d[0].permitted = (uint32_t)perm; d[1].permitted = (uint32_t)(perm >> 32);
    d[0].inheritable = (uint32_t)inh; d[1].inheritable = (uint32_t)(inh >> 32);
    return (int)syscall(SYS_capset, &h, d);
}

int sh_last_cap(void) {
    // The kernel's highest capability: probe the bounding set, as libcap does when
    // /proc/sys/kernel/cap_last_cap is unreadable.
    int cap = 0;
    while (cap < 64 && prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0) cap++;
    return cap;
}

int sh_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    return ioctl(fd, TIOCSWINSZ, &ws);
}
int sh_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0) return -1;
    *rows = ws.ws_row; *cols = ws.ws_col;
    return 0;
}
int sh_set_controlling_tty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }
int sh_unlock_pt(int fd) { int unlock = 0; return ioctl(fd, TIOCSPTLCK, &unlock); }
int sh_pt_number(int fd) {
    unsigned int n;
    if (ioctl(fd, TIOCGPTN, &n) < 0) return -1;
    return (int)n;
}

int sh_set_cloexec(int fd, int on) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return -1;
    flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
    return fcntl(fd, F_SETFD, flags);
}
int sh_set_pipe_size(int fd, int size) {
#ifdef F_SETPIPE_SZ
    return fcntl(fd, F_SETPIPE_SZ, size);
#else
    errno = ENOSYS;
    return -1;
#endif
}
int sh_set_nonblock(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags);
}

int sh_send_fd(int sock, int fd, const void *data, size_t datalen) {
    char byte = 0;
    struct iovec iov = { .iov_base = datalen ? (void *)data : &byte, .iov_len = datalen ? datalen : 1 };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

int sh_recv_fd(int sock, void *data, size_t *datalen) {
    char byte;
    struct iovec iov = { .iov_base = (datalen && *datalen) ? data : &byte, .iov_len = (datalen && *datalen) ? *datalen : 1 };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    if (datalen) *datalen = (size_t)n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd; memcpy(&fd, CMSG_DATA(c), sizeof(int));
            return fd;
        }
    }
    errno = n == 0 ? ECONNRESET : EBADMSG;
    return -1;
}

int sh_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}
int sh_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int sh_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int sh_block_signals(const int *signals, int count) {
    sigset_t set; sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    return sigprocmask(SIG_BLOCK, &set, NULL);
}
int sh_unblock_all_signals(void) {
    sigset_t set; sigemptyset(&set);
    return sigprocmask(SIG_SETMASK, &set, NULL);
}
void sh_reset_signal_dispositions(void) {
    sh_reset_signal_dispositions_except(NULL, 0);
}
void sh_reset_signal_dispositions_except(const int *keep, int count) {
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        int kept = 0;
        for (int i = 0; i < count; i++) kept |= keep[i] == s;
        if (!kept) signal(s, SIG_DFL);
    }
}
void sh_reset_signals(const int *signals, int count) {
    for (int i = 0; i < count; i++) signal(signals[i], SIG_DFL);
}
int sh_wait_signal(const int *signals, int count, int *pid_out) {
    sigset_t set; sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    siginfo_t info;
    int s;
    do { s = sigwaitinfo(&set, &info); } while (s < 0 && errno == EINTR);
    if (s > 0 && pid_out) *pid_out = info.si_pid;
    return s;
}

int sh_mknodat(int dirfd, const char *name, unsigned int mode, unsigned int major, unsigned int minor) {
    return mknodat(dirfd, name, mode, makedev(major, minor));
}
int sh_setgroups(size_t n, const gid_t *groups) { return setgroups(n, groups); }
int sh_setresuid(uid_t r, uid_t e, uid_t s) { return setresuid(r, e, s); }
int sh_setresgid(gid_t r, gid_t e, gid_t s) { return setresgid(r, e, s); }
int sh_prlimit(int resource, uint64_t soft, uint64_t hard) {
    struct rlimit64 rl = { .rlim_cur = soft, .rlim_max = hard };
    return prlimit64(0, (enum __rlimit_resource)resource, &rl, NULL);
}
int sh_getrlimit(int resource, uint64_t *soft, uint64_t *hard) {
    struct rlimit64 rl;
    if (prlimit64(0, (enum __rlimit_resource)resource, NULL, &rl) < 0) return -1;
    *soft = rl.rlim_cur; *hard = rl.rlim_max;
    return 0;
}

int sh_join_session_keyring(const char *name) {
    long id = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name, 0, 0, 0);
    if (id < 0) return -1;
    // Let the user and group of the container view, read and search it, as runc does
    // (its permission bits | 0x080b0000); the description is "type;uid;gid;perm;name".
    char desc[256];
    long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, desc, sizeof desc - 1, 0);
    if (n > 0) {
        desc[n < (long)sizeof desc ? n : (long)sizeof desc - 1] = 0;
        char *p = desc;
        for (int field = 0; field < 3 && p; field++) { p = strchr(p, ';'); if (p) p++; }
        if (p) {
            unsigned long perm = strtoul(p, NULL, 16);
            syscall(SYS_keyctl, 5 /* KEYCTL_SETPERM */, id, perm | 0x080b0000UL, 0, 0);
        }
    }
    return (int)id;
}

long sh_mount_flags_of(const char *path) {
    struct statvfs s;
    if (statvfs(path, &s) < 0) return -1;
    long flags = 0;
    const struct { unsigned long st, ms; } map[] = {
        { ST_RDONLY, MS_RDONLY }, { ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV },
        { ST_NOEXEC, MS_NOEXEC }, { ST_SYNCHRONOUS, MS_SYNCHRONOUS }, { ST_MANDLOCK, MS_MANDLOCK },
        { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
    };
    for (unsigned i = 0; i < sizeof map / sizeof map[0]; i++)
        if (s.f_flag & map[i].st) flags |= (long)map[i].ms;
    return flags;
}

int sh_signalfd(const int *signals, int count) {
    sigset_t set; sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int sh_read_signalfd(int fd) {
    struct signalfd_siginfo info;
    ssize_t n;
    do { n = read(fd, &info, sizeof info); } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof info) return -1;
    return (int)info.ssi_signo;
}
int sh_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

#include <linux/bpf.h>

static long sh_bpf(int cmd, union bpf_attr *attr) {
    return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

int sh_bpf_load_cgroup_device(const void *insns, uint32_t insn_count, const char *license,
                              char *log, uint32_t log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = insn_count;
    attr.license = (uint64_t)(uintptr_t)license;
    int fd = (int)sh_bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0 && log != NULL && log_size > 0) {
        int saved = errno;
        log[0] = 0;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
        fd = (int)sh_bpf(BPF_PROG_LOAD, &attr);
        if (fd < 0) errno = saved;
    }
    if (fd >= 0) (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

int sh_bpf_attach_cgroup_device(int cgroup_fd, int prog_fd, uint32_t flags) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = flags;
    return (int)sh_bpf(BPF_PROG_ATTACH, &attr);
}

int sh_bpf_detach_cgroup_device(int cgroup_fd, int prog_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    return (int)sh_bpf(BPF_PROG_DETACH, &attr);
}

int sh_bpf_query_cgroup_device(int cgroup_fd, uint32_t *ids, uint32_t *count) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = *count;
    int rc = (int)sh_bpf(BPF_PROG_QUERY, &attr);
    *count = attr.query.prog_cnt;
    return rc;
}

int sh_bpf_prog_fd_by_id(uint32_t id) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    int fd = (int)sh_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd >= 0) (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
struct sh_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

int sh_open_tree_clone(const char *path) {
    return (int)syscall(428 /* open_tree */, AT_FDCWD, path, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
}
int sh_mount_setattr_idmap(int tree_fd, int userns_fd) {
    struct sh_mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
    return (int)syscall(442 /* mount_setattr */, tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
}
struct sh_open_how { uint64_t flags, mode, resolve; };
int sh_open_in_root(int root_fd, const char *path, int flags) {
    // RESOLVE_IN_ROOT (0x10): "/", ".." and absolute symlinks stay inside root_fd,
    // as SecureJoin resolves them; RESOLVE_NO_MAGICLINKS (0x02): no /proc/*/fd links.
    struct sh_open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .mode = 0, .resolve = 0x10 | 0x02 };
    return (int)syscall(437 /* openat2 */, root_fd, path, &how, sizeof how);
}
int sh_mount_setattr(const char *path, int recursive, uint64_t attr_set, uint64_t attr_clr) {
    struct sh_mount_attr attr = { .attr_set = attr_set, .attr_clr = attr_clr };
    return (int)syscall(442 /* mount_setattr */, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr);
}
int sh_move_mount_to(int tree_fd, const char *target) {
    return (int)syscall(429 /* move_mount */, tree_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
}

long sh_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return (long)lgetxattr(path, name, value, size);
}
int sh_lsetxattr(const char *path, const char *name, const void *value, size_t size) {
    return lsetxattr(path, name, value, size, 0);
}
int sh_fsetxattr(int fd, const char *name, const void *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}
long sh_llistxattr(const char *path, char *list, size_t size) {
    return (long)llistxattr(path, list, size);
}

// --- Egress: the sandbox's loopback (ioctl is variadic; the ifreq layout is C's) ---
#include <net/if.h>
#include <sys/ioctl.h>

// Brings `lo` up in the calling thread's network namespace (a fresh one has it down).
int sh_loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(s);
    errno = saved;
    return rc;
}

// --- A network namespace made by a helper task (sh_netns_maker_*) ----------------
//
// unshare(CLONE_NEWNET) costs 0.4-1 ms of kernel work here. Made by a helper started as
// soon as the spec is known, it overlaps with the runtime's work before the fork and
// with the init's mounts after it, on the second core; the init needs it only at its
// sysfs mount, one of the last.
//
// The helper is not a thread but a sibling task made by clone(CLONE_VM | CLONE_FILES)
// on a small stack of its own: it shares the memory (to report back) and the
// descriptor table (the namespace's descriptor lands in the runtime's), is in no
// thread group, and glibc does not know it exists. That is the point:
//   - The init is forked by a raw clone3, which does not reset glibc's list of threads
//     in the child as fork() does. A child that believes another thread exists waits
//     for ever in setuid/setgid (glibc signals every thread it knows of and waits for
//     each): a pthread had to be joined before the fork, and the fork then waited
//     for the namespace (~0.6 ms). The helper can still be running at the fork.
//   - The helper takes no glibc lock and touches no thread-local state: it makes raw
//     system calls only (glibc's wrappers would set errno, a thread-local the helper
//     shares with the main thread, having no TLS of its own). So the fork can never
//     copy a lock the helper holds.
// Its exit signal is 0, so it is a "clone" child: waitpid(-1) without __WCLONE or
// __WALL never reports or reaps it (the runtime's waits for the init are unaffected);
// sh_netns_maker_finish reaps it with __WCLONE.
#if defined(__x86_64__) || defined(__aarch64__)
#include <sys/mman.h>
#include <sys/wait.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static inline long netns_raw_syscall4(long n, long a, long b, long c, long d) {
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
#endif
}

#define NETNS_HELPER_STACK (64 * 1024)

struct sh_netns_maker {
    pid_t owner;  // the runtime's pid: a forked copy of this struct is not its to finish
    pid_t helper; // the helper task
    void *stack;
    int fd;       // written by the helper: the namespace, or -1
    int err;      // written by the helper: errno of the failed call
};

// Runs on the helper's own stack; raw system calls only (see above).
static int netns_helper_main(void *arg) {
    struct sh_netns_maker *m = arg;
    long r = netns_raw_syscall4(SYS_unshare, CLONE_NEWNET, 0, 0, 0);
    if (r == 0) {
        // The helper is a process of its own: /proc/self is it.
        static const char path[] = "/proc/self/ns/net";
        r = netns_raw_syscall4(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0);
    }
    if (r < 0) {
        m->fd = -1;
        m->err = (int)-r;
    } else {
        m->fd = (int)r;
        m->err = 0;
    }
    return 0; // glibc's clone() ends the task with the raw exit system call
}

struct sh_netns_maker *sh_netns_maker_start(void) {
    // Valgrind (hack/profile-run, hack/startup-order) aborts the whole process at a
    // clone it does not know; there the caller makes the namespace itself.
    if (RUNNING_ON_VALGRIND) return NULL;
    struct sh_netns_maker *m = calloc(1, sizeof *m);
    if (m == NULL) return NULL;
    m->fd = -1;
    m->owner = getpid();
    m->stack = mmap(NULL, NETNS_HELPER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m->stack == MAP_FAILED) {
        free(m);
        return NULL;
    }
    // Every signal blocked in the helper (it inherits the mask): a handler of the
    // runtime's must never run on the helper's stack without its thread state.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t helper = clone(netns_helper_main, (char *)m->stack + NETNS_HELPER_STACK, CLONE_VM | CLONE_FILES, m);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (helper < 0) {
        munmap(m->stack, NETNS_HELPER_STACK);
        free(m);
        errno = saved;
        return NULL;
    }
    m->helper = helper;
    return m;
}

// Waits for the helper and returns the namespace's descriptor (the caller owns it),
// or -1 with errno set. `m` is freed. In another process (a child forked meanwhile)
// it does nothing and returns -1: the helper is not its child.
int sh_netns_maker_finish(struct sh_netns_maker *m) {
    if (getpid() != m->owner) {
        errno = ECHILD;
        return -1;
    }
    while (waitpid(m->helper, NULL, __WCLONE) < 0 && errno == EINTR) {}
    // The helper's writes are visible: it has exited, and waitpid is a full barrier.
    int fd = m->fd, err = m->err;
    munmap(m->stack, NETNS_HELPER_STACK);
    free(m);
    if (fd < 0) errno = err;
    return fd;
}
#else
// Other architectures: no helper (the caller makes the namespace itself).
struct sh_netns_maker *sh_netns_maker_start(void) { return NULL; }
int sh_netns_maker_finish(struct sh_netns_maker *m) { (void)m; errno = ENOSYS; return -1; }
#endif
