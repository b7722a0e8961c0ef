#!/usr/bin/env bats
# linux.seccomp through the runtime: the filter is in force in the container's
# process and in exec'd processes, with the spec's actions. Differential with runc
# where runc defines the result.

load helpers

ERRNO_MKDIR='.root.readonly = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'

@test "seccomp: a denied syscall returns its errnoRet (differential)" {
	run_both "$ERRNO_MKDIR"' | .process.args = ["sh", "-c", "mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status"]'
	expect_ok
	[[ "$ref_out" == *"Function not implemented"* ]]
	[[ "$ref_out" == *"Seccomp:	2"* ]]
}

@test "seccomp: without no_new_privs the filter is loaded before privileges drop (differential)" {
	run_both "$ERRNO_MKDIR"' | .process.noNewPrivileges = false | .process.user = {"uid": 1000, "gid": 1000} | .process.args = ["sh", "-c", "mkdir /tmp/x 2>&1; id -u"]'
	expect_ok
	[[ "$ref_out" == *"Function not implemented"* ]]
}

@test "seccomp: SCMP_ACT_KILL_PROCESS kills with SIGSYS (exit 159), errnoRet defaults to EPERM (differential)" {
	run_both '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]} | .process.args = ["sh", "-c", "kill -0 $PPID; echo after"]'
	# busybox sh reads its parent's pid at start-up with getppid.
	[ "$ref_status" = 159 ]
	run_both '.root.readonly = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]} | .process.args = ["sh", "-c", "mkdir /tmp/y 2>&1"]'
	[[ "$ref_out" == *"Operation not permitted"* ]]
}

@test "seccomp: argument conditions (differential)" {
	# setpriority(which, who, prio): deny only a priority of 5 (EQ on arg 2).
	run_both '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["setpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 2, "value": 5, "op": "SCMP_CMP_EQ"}]}]} | .process.args = ["sh", "-c", "renice -n 5 -p $$ >/dev/null 2>&1; echo five=$?; renice -n 3 -p $$ >/dev/null 2>&1; echo three=$?"]'
	expect_ok
	[ "$ref_out" = "$(printf 'five=1\nthree=0')" ]
}

@test "seccomp: default deny with an allow list runs the program" {
	local allow
	allow="$(printf '%s\n' read write open openat close fstat newfstatat stat lstat mmap mprotect munmap brk rt_sigaction rt_sigprocmask rt_sigreturn ioctl access execve exit exit_group arch_prctl set_tid_address getpid getppid getuid geteuid getgid getegid uname fcntl prlimit64 set_robust_list rseq wait4 clone clone3 fork vfork dup dup2 dup3 pipe pipe2 getcwd chdir fchdir futex poll ppoll sysinfo statfs fstatfs sendto sendmsg recvfrom recvmsg epoll_create1 epoll_ctl epoll_pwait epoll_wait nanosleep capget capset prctl setgroups setresuid setresgid setuid setgid getdents64 readlink readlinkat faccessat faccessat2 lseek madvise sched_yield sched_getaffinity clock_gettime gettid tgkill close_range umask select pselect6 sigaltstack openat2 getrandom mremap keyctl write writev getpgrp setsid kill | jq -R . | jq -s .)"
	run_both '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [{"names": $allow, "action": "SCMP_ACT_ALLOW"}]} | .process.args = ["echo", "allowed"]' --argjson allow "$allow"
	expect_ok
	expect_out allowed
}

@test "seccomp: an unknown syscall name is skipped with a warning; an unknown action fails create in one line" {
	config "$ERRNO_MKDIR"' | .linux.seccomp.syscalls[0].names += ["no_such_syscall"] | .process.args = ["true"]'
	run --separate-stderr rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[[ "$stderr" == *no_such_syscall* ]]
	config '.linux.seccomp.syscalls[0].action = "SCMP_ACT_FLY"'
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"linux.seccomp.syscalls[0].action"* ]]
	[ -z "$(root_entries)" ]
}

@test "seccomp: exec'd processes get the container's filter" {
	config "$ERRNO_MKDIR"' | .process.args = ["sleep", "60"]'
	local id
	id="$(new_id)"
	rt run --detach --bundle "$BUNDLE" "$id" </dev/null
	run rt exec "$id" sh -c 'mkdir /tmp/z 2>&1; grep Seccomp: /proc/self/status'
	[[ "$output" == *"Function not implemented"* ]]
	[[ "$output" == *"Seccomp:	2"* ]]
	rt delete --force "$id"
}

@test "seccomp: SCMP_ACT_NOTIFY hands the listener the descriptor and the state; its answer is the syscall's result" {
	python3 "$BATS_TEST_DIRNAME/seccomp_listener.py" "$TEST_TMP/agent.sock" "$TEST_TMP/agent.state" 4242 --timeout 15 >"$TEST_TMP/agent.out" 2>&1 &
	local agent=$!
	for _ in $(seq 50); do [ -S "$TEST_TMP/agent.sock" ] && break; sleep 0.1; done
	# busybox sh sets $PPID from getppid(), which the listener answers with 4242.
	config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $sock, "listenerMetadata": "agent-meta", "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]} | .process.args = ["sh", "-c", "echo ppid=$PPID"]' --arg sock "$TEST_TMP/agent.sock"
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	kill "$agent" 2>/dev/null || true
	wait "$agent" 2>/dev/null || true
	[ "$status" = 0 ]
	[ "$output" = "ppid=4242" ]
	jq -e '.metadata == "agent-meta" and .fds == ["seccompFd"] and (.pid > 0) and (.state.status != null)' "$TEST_TMP/agent.state"
}

# A static probe that makes raw system calls by number (argv) and prints, per call,
# "NR=ok", "NR=ENOSYS", "NR=EPERM" or "NR=errno N": what a program built against a
# newer kernel sees.
build_syscall_probe() {
	mkdir -p "$TEST_TMP/probe"
	cat >"$TEST_TMP/probe/probe.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		long nr = strtol(argv[i], NULL, 10);
		errno = 0;
		long r = syscall(nr, -1L, 0L, 0L, 0L, 0L, 0L);
		if (r >= 0 || errno == EBADF || errno == EINVAL || errno == EFAULT) printf("%ld=ok\n", nr);
		else if (errno == ENOSYS) printf("%ld=ENOSYS\n", nr);
		else if (errno == EPERM) printf("%ld=EPERM\n", nr);
		else printf("%ld=errno %d\n", nr, errno);
	}
	return 0;
}
C
	gcc -static -O1 -o "$TEST_TMP/probe/probe" "$TEST_TMP/probe/probe.c"
	config '.mounts += [{destination: "/probe", type: "bind", source: $d, options: ["rbind", "ro"]}]' --arg d "$TEST_TMP/probe"
}

# Default EPERM; the calls the runtimes and a static binary need are allowed, and
# memfd_secret (447, the profile's highest) is denied with EACCES (13).
ENOSYS_ALLOW='["read", "write", "open", "openat", "close", "fstat", "newfstatat", "stat", "lstat", "mmap", "mprotect",
	"munmap", "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "access", "execve", "exit", "exit_group",
	"arch_prctl", "set_tid_address", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "uname", "fcntl",
	"prlimit64", "set_robust_list", "rseq", "futex", "nanosleep", "sched_yield", "gettid", "tgkill", "sigaltstack",
	"readlink", "readlinkat", "getrandom", "close_range", "dup3", "capget", "capset", "prctl", "setgroups", "setresuid",
	"setresgid", "fstatfs", "statfs", "openat", "getdents64", "lseek", "madvise", "mremap", "sched_getaffinity", "clock_gettime", "epoll_pwait", "epoll_ctl", "epoll_create1", "sendto", "sendmsg", "recvmsg", "writev", "openat2"]'
ENOSYS_PROFILE='.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": $arches,
	"syscalls": [{"names": $allow, "action": "SCMP_ACT_ALLOW"},
		{"names": ["memfd_secret"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'

@test "seccomp: a syscall newer than the profile gets ENOSYS, older unnamed ones the default errno (differential)" {
	build_syscall_probe
	# 448 and 1000: above the profile's highest (447); 170 sethostname: below it, not
	# named; 447 memfd_secret: named, keeps its errno; 437 openat2: allowed.
	run_both "$ENOSYS_PROFILE"' | .process.args = ["/probe/probe", "448", "1000", "170", "447", "437"]' \
		--argjson arches '["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]' --argjson allow "$ENOSYS_ALLOW"
	expect_ok
	expect_out "448=ENOSYS
1000=ENOSYS
170=EPERM
447=errno 13
437=ok"
}

@test "seccomp: a kill default action gets the ENOSYS stub too; allow and log defaults need none (differential)" {
	build_syscall_probe
	run_both "$ENOSYS_PROFILE"' | .linux.seccomp.defaultAction = "SCMP_ACT_KILL_PROCESS" | .process.args = ["/probe/probe", "1000"]' \
		--argjson arches '["SCMP_ARCH_X86_64"]' --argjson allow "$ENOSYS_ALLOW"
	expect_ok
	expect_out "1000=ENOSYS"
}

@test "seccomp: with no architectures listed the native one gets the ENOSYS stub" {
	# runc 1.1 builds its stub only for listed architectures, so a profile without
	# any gets EPERM for every new call there and glibc does not fall back; libseccomp
	# filters the native architecture in that case, and so does the stub here.
	if runtime_is_runc11; then skip "runc 1.1 adds no ENOSYS stub without architectures"; fi
	build_syscall_probe
	config "$ENOSYS_PROFILE"' | .process.args = ["/probe/probe", "448", "170"]' --argjson arches '[]' --argjson allow "$ENOSYS_ALLOW"
	run --separate-stderr rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[ "$output" = "448=ENOSYS
170=EPERM" ]
}

@test "seccomp: an unreachable seccomp agent fails create with runc's words and the listenerPath (differential)" {
	config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $sock, "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]} | .process.args = ["true"]' \
		--arg sock "$TEST_TMP/no-agent.sock"
	run_both
	expect_fail
	[[ "$ref_err" == *"failed to connect with seccomp agent"* ]]
	echo "# $rt_err" >&2
	[[ "$rt_err" == *"failed to connect with seccomp agent"* ]]
	[ -z "$(root_entries)" ]
	# runc 1.1 names neither the field nor the path.
	runtime_is_runc11 && return 0
	[[ "$rt_err" == *"linux.seccomp.listenerPath"* ]]
	[[ "$rt_err" == *"$TEST_TMP/no-agent.sock"* ]]
}
