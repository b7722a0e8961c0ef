// CLinux: the few system facilities Swift cannot call directly.
//
// Swift does not import variadic C functions (syscall, prctl, ioctl, fcntl), nor
// several Linux-only declarations guarded by _GNU_SOURCE (unshare, setns,
// CLONE_NEW*), nor the CMSG macros needed for SCM_RIGHTS. Each function here wraps
// exactly one facility, returns -1 with errno set on failure like the call it wraps,
// and does nothing else: error handling and policy live in the Swift `Linux` target.
#ifndef CLINUX_H
#define CLINUX_H

#include <stdint.h>
#include <sys/types.h>

// Namespace flags (linux/sched.h), spelled out so Swift sees them as constants.
#define SH_CLONE_NEWTIME   0x00000080
#define SH_CLONE_NEWNS     0x00020000
#define SH_CLONE_NEWCGROUP 0x02000000
#define SH_CLONE_NEWUTS    0x04000000
#define SH_CLONE_NEWIPC    0x08000000
#define SH_CLONE_NEWUSER   0x10000000
#define SH_CLONE_NEWPID    0x20000000
#define SH_CLONE_NEWNET    0x40000000

// Mount flags (linux/mount.h).
#define SH_MS_RDONLY      1UL
#define SH_MS_NOSUID      2UL
#define SH_MS_NODEV       4UL
#define SH_MS_NOEXEC      8UL
#define SH_MS_SYNCHRONOUS 16UL
#define SH_MS_REMOUNT     32UL
#define SH_MS_MANDLOCK    64UL
#define SH_MS_DIRSYNC     128UL
#define SH_MS_NOSYMFOLLOW 256UL
#define SH_MS_NOATIME     1024UL
#define SH_MS_NODIRATIME  2048UL
#define SH_MS_BIND        4096UL
#define SH_MS_MOVE        8192UL
#define SH_MS_REC         16384UL
#define SH_MS_SILENT      32768UL
#define SH_MS_UNBINDABLE  (1UL << 17)
#define SH_MS_PRIVATE     (1UL << 18)
#define SH_MS_SLAVE       (1UL << 19)
#define SH_MS_SHARED      (1UL << 20)
#define SH_MS_RELATIME    (1UL << 21)
#define SH_MS_I_VERSION   (1UL << 23)
#define SH_MS_STRICTATIME (1UL << 24)
#define SH_MS_LAZYTIME    (1UL << 25)

#define SH_MNT_DETACH 2
// O_PATH (glibc defines it only under _GNU_SOURCE, which Swift does not set).
#define SH_O_PATH 010000000

int sh_unshare(int flags);
int sh_setns(int fd, int nstype);
int sh_pivot_root(const char *new_root, const char *put_old);
int sh_mount(const char *source, const char *target, const char *fstype,
             unsigned long flags, const char *data);
int sh_umount2(const char *target, int flags);
int sh_sethostname(const char *name, size_t len);
int sh_setdomainname(const char *name, size_t len);
pid_t sh_fork(void);
// fork(2) by clone3: the child starts in the cgroup v2 directory open at `cgroup_fd`
// (CLONE_INTO_CGROUP: no migration afterwards; -1: where the caller is) and in the
// new namespaces of `flags` (CLONE_NEWPID...). For a single-threaded caller only; the
// child is what fork() would give, glibc's cached thread id included. -1 with errno
// on failure (ENOSYS, E2BIG or EINVAL: a kernel before 5.3 or 5.7).
pid_t sh_clone3_fork(int cgroup_fd, uint64_t flags);
/// A new network namespace made by a helper task while the caller goes on (shim.c).
struct sh_netns_maker;
struct sh_netns_maker *sh_netns_maker_start(void);
int sh_netns_maker_finish(struct sh_netns_maker *m);

// prctl(2) with integer arguments.
int sh_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);

// Capabilities through capget/capset (version 3, 64-bit sets), raw system calls:
// glibc has no wrapper and libcap is a dependency we do not need.
int sh_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);
int sh_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int sh_last_cap(void);

// Terminals.
int sh_set_winsize(int fd, unsigned short rows, unsigned short cols);
int sh_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
int sh_set_controlling_tty(int fd);
int sh_unlock_pt(int fd);
int sh_pt_number(int fd);

// fcntl(2) helpers.
int sh_set_cloexec(int fd, int on);
int sh_set_nonblock(int fd, int on);
// F_SETPIPE_SZ: a pipe's buffer size (rounded up by the kernel); its size, or -1.
int sh_set_pipe_size(int fd, int size);

// Descriptors over a Unix socket (SCM_RIGHTS). `data` is a short payload sent with
// the descriptor; the receiver gets up to `datalen` bytes of it.
int sh_send_fd(int sock, int fd, const void *data, size_t datalen);
int sh_recv_fd(int sock, void *data, size_t *datalen);

int sh_pipe_cloexec(int fds[2]);
int sh_close_range(unsigned int first, unsigned int last, unsigned int flags);
int sh_pidfd_open(pid_t pid);
int sh_pidfd_send_signal(int pidfd, int sig);

// Signals: block/unblock sets, reset every disposition (ignored dispositions survive
// execve, so a container must not inherit them), wait synchronously.
int sh_block_signals(const int *signals, int count);
int sh_unblock_all_signals(void);
void sh_reset_signal_dispositions(void);
// Every disposition but those of `keep` back to SIG_DFL; only those of `signals`.
void sh_reset_signal_dispositions_except(const int *keep, int count);
void sh_reset_signals(const int *signals, int count);
int sh_wait_signal(const int *signals, int count, int *pid_out);

// A signalfd for the given (blocked) signals, and reading one signal from it.
int sh_signalfd(const int *signals, int count);
int sh_read_signalfd(int fd);

int sh_mknodat(int dirfd, const char *name, unsigned int mode, unsigned int major, unsigned int minor);
int sh_setgroups(size_t n, const gid_t *groups);
int sh_setresuid(uid_t r, uid_t e, uid_t s);
int sh_setresgid(gid_t r, gid_t e, gid_t s);
int sh_prlimit(int resource, uint64_t soft, uint64_t hard);
int sh_getrlimit(int resource, uint64_t *soft, uint64_t *hard);

// keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a new session keyring for the container.
int sh_join_session_keyring(const char *name);
// The MS_* flags a mounted file system currently has (from statvfs), which a bind
// remount must repeat: in a user namespace the kernel refuses to clear locked ones.
long sh_mount_flags_of(const char *path);
// bpf(2) for cgroup v2 device programs (BPF_PROG_TYPE_CGROUP_DEVICE). `insns` is an
// array of 8-byte struct bpf_insn. The load writes the verifier's log into `log`
// (may be NULL) when it fails. Each returns -1 with errno set on failure.
int sh_bpf_load_cgroup_device(const void *insns, uint32_t insn_count, const char *license,
                              char *log, uint32_t log_size);
// BPF_PROG_ATTACH / BPF_PROG_DETACH with attach type BPF_CGROUP_DEVICE.
int sh_bpf_attach_cgroup_device(int cgroup_fd, int prog_fd, uint32_t flags);
int sh_bpf_detach_cgroup_device(int cgroup_fd, int prog_fd);
// BPF_PROG_QUERY (BPF_CGROUP_DEVICE): on entry *count is the room in `ids`; on return
// it is the number of attached programs (ENOSPC when that exceeds the room).
int sh_bpf_query_cgroup_device(int cgroup_fd, uint32_t *ids, uint32_t *count);
// BPF_PROG_GET_FD_BY_ID.
int sh_bpf_prog_fd_by_id(uint32_t id);
#define SH_BPF_F_ALLOW_MULTI 2u

// Idmapped mounts (Linux 5.12+): a detached copy of the tree at `path`
// (open_tree(OPEN_TREE_CLONE | AT_RECURSIVE)), its ids mapped through the user
// namespace `userns_fd` (mount_setattr MOUNT_ATTR_IDMAP), attached at `target`
// (move_mount). Each returns -1 with errno set on failure.
int sh_open_tree_clone(const char *path);
// openat2(2) of `path` beneath `root_fd` as if it were "/" (RESOLVE_IN_ROOT, no magic
// links), close-on-exec. -1 with errno (ENOSYS before 5.6; EAGAIN: a rename raced
// the walk, try again).
int sh_open_in_root(int root_fd, const char *path, int flags);
int sh_mount_setattr_idmap(int tree_fd, int userns_fd);
// mount_setattr(2) on the mount at `path` (and every mount below it if `recursive`):
// MOUNT_ATTR_* bits to set and to clear. -1 with errno (ENOSYS before 5.12).
int sh_mount_setattr(const char *path, int recursive, uint64_t attr_set, uint64_t attr_clr);
int sh_move_mount_to(int tree_fd, const char *target);
// A detached copy (OPEN_TREE_CLONE, close-on-exec) of the tree at `path` relative to
// `dir_fd`, or of `dir_fd` itself when `path` is "" (AT_EMPTY_PATH); every mount
// below it too when `recursive`. Attached with sh_move_mount_fd at the mount point
// open as `target_fd` (no path followed). -1 with errno.
int sh_open_tree_at(int dir_fd, const char *path, int recursive);
int sh_move_mount_fd(int tree_fd, int target_fd);
// fgetxattr(2): an extended attribute of the open file `fd` (an overlay's upper
// directory: trusted.overlay.opaque). Its length, or -1 with errno set.
long sh_fgetxattr(int fd, const char *name, void *value, size_t size);

// lgetxattr(2): the value of an extended attribute of `path` itself (not following a
// final symlink); returns its length, or -1 with errno set.
long sh_lgetxattr(const char *path, const char *name, void *value, size_t size);

// lsetxattr(2) of `path` itself (not following a final symlink), and fsetxattr(2) of
// an open file: image layers carry overlayfs's whiteout and opaque attributes and a
// file's capabilities. 0, or -1 with errno set.
int sh_lsetxattr(const char *path, const char *name, const void *value, size_t size);
int sh_fsetxattr(int fd, const char *name, const void *value, size_t size);
// llistxattr(2): the names of `path`'s extended attributes, NUL-separated; their
// length, or -1 with errno set.
long sh_llistxattr(const char *path, char *list, size_t size);

// Egress: brings `lo` up in the calling thread's network namespace; 0 or -1 with errno.
int sh_loopback_up(void);

// Taskstats (Documentation/accounting/taskstats.rst), for the exit status of a
// process that is not our child (taskstats.c). sh_taskstats_open: a generic netlink
// socket registered as a listener for the exit records of every CPU (needs
// CAP_NET_ADMIN, the initial network namespace, CONFIG_TASKSTATS); the fd, or -1 with
// errno set. sh_taskstats_drain: reads every queued record without blocking and looks
// for the exit of `pid` (a pid of the initial pid namespace, as the kernel reports
// them): returns 1 and sets *status (the wait(2) status, ac_exitcode) when found, 0
// when it is not among them, -1 with errno set on a failure. *overflowed is set to 1
// when the socket's queue overflowed since the last call (records were lost).
int sh_taskstats_open(void);
int sh_taskstats_drain(int fd, uint32_t pid, uint32_t *status, int *overflowed);

// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+, _GNU_SOURCE only): the child
// closes every descriptor from `from` up before exec. 0 or an error number.
#include <spawn.h>
int sh_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
