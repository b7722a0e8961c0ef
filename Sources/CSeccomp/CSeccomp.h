// CSeccomp: the parts of libseccomp and seccomp(2) that Swift cannot call directly.
//
// libseccomp's actions are function-like macros (SCMP_ACT_ERRNO(x)) and SCMP_CMP is a
// variadic compound-literal macro; Swift imports neither, so each is a static inline
// function here. Linking is not declared in this module map: the Seccomp target's
// linkerSettings choose the shared library for debug builds and the archive
// (-l:libseccomp.a) for release builds (see Package.swift).
#ifndef CSECCOMP_H
#define CSECCOMP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

// Filter flags newer than some kernel headers; the values are the kernel ABI.
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

// A system call by number with no arguments, as a program built for a newer kernel
// makes it: the result, or -errno. (syscall(2) is variadic: Swift cannot call it.)
static inline long csh_raw_syscall0(long number) {
    long r = syscall(number);
    return r < 0 ? -errno : r;
}

// MARK: actions (seccomp.h macros)

static inline uint32_t csh_act_kill_thread(void) { return SCMP_ACT_KILL_THREAD; }
static inline uint32_t csh_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t csh_act_trap(void) { return SCMP_ACT_TRAP; }
static inline uint32_t csh_act_errno(uint32_t e) { return SCMP_ACT_ERRNO(e); }
static inline uint32_t csh_act_trace(uint32_t msg) { return SCMP_ACT_TRACE(msg); }
static inline uint32_t csh_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t csh_act_log(void) { return SCMP_ACT_LOG; }
static inline uint32_t csh_act_notify(void) { return SCMP_ACT_NOTIFY; }

// MARK: argument comparisons (SCMP_CMP is a variadic compound literal)

static inline struct scmp_arg_cmp csh_arg_cmp(unsigned int arg, enum scmp_compare op,
                                              uint64_t datum_a, uint64_t datum_b) {
    struct scmp_arg_cmp c = { .arg = arg, .op = op, .datum_a = datum_a, .datum_b = datum_b };
    return c;
}

// MARK: seccomp(2) filter flags

static inline unsigned int csh_flag_tsync(void) { return SECCOMP_FILTER_FLAG_TSYNC; }
static inline unsigned int csh_flag_log(void) { return SECCOMP_FILTER_FLAG_LOG; }
static inline unsigned int csh_flag_spec_allow(void) { return SECCOMP_FILTER_FLAG_SPEC_ALLOW; }
static inline unsigned int csh_flag_new_listener(void) { return SECCOMP_FILTER_FLAG_NEW_LISTENER; }
static inline unsigned int csh_flag_tsync_esrch(void) { return SECCOMP_FILTER_FLAG_TSYNC_ESRCH; }
static inline unsigned int csh_flag_wait_killable_recv(void) { return SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV; }

/// 1 when the kernel accepts every bit of `flags`, else 0. seccomp(2) checks the flags
/// before it reads the program, so a NULL program fails with EFAULT when the flags are
/// known and EINVAL when not; nothing is installed either way (libseccomp probes the
/// same way in sys_chk_seccomp_flag).
static inline int csh_seccomp_flags_supported(unsigned int flags) {
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL);
    return r < 0 && errno == EFAULT;
}

/// Installs a classic-BPF program (an array of struct sock_filter, `len` bytes) in the
/// calling thread with seccomp(2). Returns the listener fd when `flags` holds
/// NEW_LISTENER, 0 otherwise, -1 with errno on failure. The caller must hold
/// no_new_privs or CAP_SYS_ADMIN.
static inline int csh_seccomp_load_bpf(const void *bpf, size_t len, unsigned int flags) {
    struct sock_fprog prog = {
        .len = (unsigned short)(len / sizeof(struct sock_filter)),
        .filter = (struct sock_filter *)bpf,
    };
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/// The size of one BPF instruction, to check an exported program's length.
static inline size_t csh_bpf_instruction_size(void) { return sizeof(struct sock_filter); }

/// The most instructions the kernel accepts in one program (BPF_MAXINSNS).
static inline size_t csh_bpf_max_instructions(void) { return BPF_MAXINSNS; }

/// An anonymous, close-on-exec memory file: seccomp_export_bpf writes to an fd and
/// libseccomp 2.5.4 has no seccomp_export_bpf_mem.
static inline int csh_memfd(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 1U /* MFD_CLOEXEC */);
}

#endif
