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
