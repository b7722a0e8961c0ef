#!/usr/bin/env bats
# Differential tests of the container process: user, capabilities, rlimits, cwd, env,
# exit codes, umask, noNewPrivileges, oomScoreAdj. The same bundle runs under
# $REFERENCE (runc) and $RUNTIME; stdout and exit code must match, and the reference's
# output must be what the test expects (so a shared failure never passes).

load helpers

@test "user: uid, gid and additionalGids (id)" {
	config '.process.user = {uid: 1000, gid: 1000, additionalGids: [5, 65534]}'
	run_both '.process.args = ["id"]'
	expect_out "uid=1000(user) gid=1000(user) groups=5(tty),65534(nogroup)"
}

@test "user: root with additionalGids" {
	# runc sets the supplementary groups to exactly additionalGids (gid not added).
	run_both '.process.user = {uid: 0, gid: 0, additionalGids: [1000]} | .process.args = ["id"]'
	expect_out "uid=0(root) gid=0(root) groups=1000(user)"
}

@test "user: uid and gid without a passwd entry" {
	run_both '.process.user = {uid: 4242, gid: 4343} | .process.args = ["sh", "-c", "id -u; id -g; id -G"]'
	expect_out $'4242\n4343\n4343'
}

@test "capabilities: the default spec's sets" {
	# The default spec lists ambient capabilities but no inheritable ones: the kernel
	# refuses to raise an ambient capability that is not inheritable, and runc ignores
	# that failure silently, so CapAmb ends up 0.
	run_both '.process.args = ["grep", "Cap", "/proc/self/status"]'
	expect_out "$(printf 'CapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s' \
		0000000000000000 0000000020000420 0000000020000420 0000000020000420 0000000000000000)"
}

@test "capabilities: ambient set when also inheritable" {
	run_both '.process.capabilities.inheritable = .process.capabilities.ambient | .process.args = ["grep", "Cap", "/proc/self/status"]'
	expect_out "$(printf 'CapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s' \
		0000000020000420 0000000020000420 0000000020000420 0000000020000420 0000000020000420)"
}

@test "capabilities: five different sets" {
	config '.process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_ADMIN", "CAP_KILL"],
		effective: ["CAP_CHOWN", "CAP_KILL"],
		permitted: ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_KILL"],
		inheritable: ["CAP_CHOWN", "CAP_NET_RAW"],
		ambient: ["CAP_CHOWN"]}'
	run_both '.process.args = ["grep", "Cap", "/proc/self/status"]'
	expect_ok
	# CAP_CHOWN=0, CAP_KILL=5, CAP_NET_RAW=13, CAP_SYS_ADMIN=21
	[[ "$ref_out" == *"CapBnd:	0000000000202021"* ]]
	[[ "$ref_out" == *"CapAmb:	0000000000000001"* ]]
}

@test "capabilities: none at all (no capabilities object)" {
	run_both 'del(.process.capabilities) | .process.args = ["grep", "Cap", "/proc/self/status"]'
	expect_out "$(printf 'CapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s' \
		0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000)"
}

@test "capabilities: non-root user without ambient loses effective and permitted" {
	config '.process.user = {uid: 1000, gid: 1000}'
	run_both '.process.args = ["grep", "Cap", "/proc/self/status"]'
	expect_out "$(printf 'CapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s' \
		0000000000000000 0000000000000000 0000000000000000 0000000020000420 0000000000000000)"
}

@test "capabilities: non-root user keeps ambient (and inheritable) capabilities" {
	config '.process.user = {uid: 1000, gid: 1000}'
	config '.process.capabilities.inheritable = .process.capabilities.ambient'
	run_both '.process.args = ["grep", "Cap", "/proc/self/status"]'
	expect_out "$(printf 'CapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s' \
		0000000020000420 0000000020000420 0000000020000420 0000000020000420 0000000020000420)"
}

@test "capabilities: an unknown capability name is ignored (runc warns)" {
	# runc 1.1: level=warning msg="ignoring unknown or unavailable capabilities:
	# [CAP_NO_SUCH_THING]" and runs the container. Engines rely on this (a newer
	# capability on an older kernel), so safehouse must not fail either.
	run_both '.process.capabilities.bounding += ["CAP_NO_SUCH_THING"] | .process.args = ["true"]'
	expect_ok
}

@test "capabilities: CAP_SYS_RESOURCE is not grantable on this machine" {
	# FACTS.md: not in the host bounding set. runc: exit 1,
	# "unable to start container process: unable to apply caps: operation not permitted".
	run_both '.process.capabilities.bounding += ["CAP_SYS_RESOURCE"] | .process.capabilities.permitted += ["CAP_SYS_RESOURCE"] | .process.capabilities.effective += ["CAP_SYS_RESOURCE"] | .process.args = ["true"]'
	[ "$ref_status" = 1 ]
}

@test "rlimits: soft and hard limits (/proc/self/limits)" {
	config '.process.rlimits = [
		{type: "RLIMIT_NOFILE", soft: 512, hard: 2048},
		{type: "RLIMIT_NPROC", soft: 100, hard: 200},
		{type: "RLIMIT_CORE", soft: 0, hard: 0},
		{type: "RLIMIT_STACK", soft: 4194304, hard: 8388608},
		{type: "RLIMIT_MSGQUEUE", soft: 1000, hard: 1000}]'
	run_both '.process.args = ["sh", "-c", "grep -E \"open files|processes|core file|Max stack|msgqueue\" /proc/self/limits"]'
	expect_ok
	[[ "$ref_out" == *"Max open files            512                  2048"* ]]
	[[ "$ref_out" == *"Max processes             100                  200"* ]]
}

@test "rlimits: all limits, as the default spec sets them" {
	run_both '.process.args = ["cat", "/proc/self/limits"]'
	expect_ok
	[[ "$ref_out" == *"Max open files            1024                 1024"* ]]
}

@test "rlimits: raising a hard limit fails (no CAP_SYS_RESOURCE here)" {
	# runc: exit 1, "error setting rlimits for ready process: error setting rlimit
	# type 7: operation not permitted". Unset rlimits are inherited from the caller.
	run_both '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1048576, hard: 1048576}] | .process.args = ["true"]'
	[ "$ref_status" = 1 ]
}

@test "rlimits: unset limits are inherited from the caller" {
	run_both 'del(.process.rlimits) | .process.args = ["sh", "-c", "ulimit -n; ulimit -Hn"]'
	expect_out "$(ulimit -n; ulimit -Hn)"
}

@test "rlimits: an unknown rlimit type fails" {
	run_both '.process.rlimits += [{type: "RLIMIT_BOGUS", soft: 1, hard: 1}] | .process.args = ["true"]'
	expect_fail
}

@test "cwd: process.cwd (pwd)" {
	run_both '.process.cwd = "/usr/bin" | .process.args = ["pwd"]'
	expect_out "/usr/bin"
}

@test "cwd: non-root user in its home" {
	run_both '.process.user = {uid: 1000, gid: 1000} | .process.cwd = "/home/user" | .process.args = ["sh", "-c", "pwd; touch x 2>/dev/null; echo $?"]'
	expect_out $'/home/user\n1'
}

@test "env: exactly process.env, plus HOME from the container's passwd" {
	config '.process.env = ["PATH=/usr/bin:/bin", "A=1", "B=two words", "EMPTY="]'
	run_both '.process.user = {uid: 1000, gid: 1000} | .process.args = ["env"]'
	# runc adds HOME (looked up in the container's /etc/passwd) when env lacks it.
	expect_ok
	[ "$(echo "$ref_out" | sort)" = "$(printf '%s\n' A=1 'B=two words' EMPTY= HOME=/home/user PATH=/usr/bin:/bin | sort)" ]
}

@test "env: HOME given is kept; args[0] found through the container's PATH" {
	run_both '.process.env = ["PATH=/usr/sbin:/usr/bin", "HOME=/elsewhere"] | .process.args = ["env"]'
	expect_ok
	[ "$(echo "$ref_out" | sort)" = "$(printf '%s\n' HOME=/elsewhere PATH=/usr/sbin:/usr/bin)" ]
}

@test "env: sorted, as seen by a shell" {
	run_both '.process.env += ["X=y"] | .process.args = ["sh", "-c", "env | sort"]'
	expect_ok
}

@test "exit code: 0" {
	run_both '.process.args = ["sh", "-c", "exit 0"]'
	[ "$ref_status" = 0 ]
}

@test "exit code: 3" {
	run_both '.process.args = ["sh", "-c", "echo before; exit 3"]'
	[ "$ref_status" = 3 ]
	expect_out "before"
}

@test "exit code: 255" {
	run_both '.process.args = ["sh", "-c", "exit 255"]'
	[ "$ref_status" = 255 ]
}

@test "exit code: killed by SIGKILL is 137" {
	# Not PID 1 of a pid namespace (an init ignores signals it has no handler for).
	config '.linux.namespaces |= map(select(.type != "pid"))'
	run_both '.process.args = ["sh", "-c", "kill -9 $$"]'
	[ "$ref_status" = 137 ]
}

@test "exit code: killed by SIGTERM is 143" {
	config '.linux.namespaces |= map(select(.type != "pid"))'
	run_both '.process.args = ["sh", "-c", "kill -TERM $$"]'
	[ "$ref_status" = 143 ]
}

@test "exit code: args[0] that does not exist fails" {
	run_both '.process.args = ["/no/such/binary"]'
	expect_fail
}

@test "args[0] errors say what engines match: missing, not executable, a directory" {
	# Podman maps "no such file or directory" and "executable file not found" to exit
	# 127 and "permission denied" to 126, from the runtime's message (runc's, from Go's
	# exec.LookPath).
	local a
	for a in /no/such/binary nosuchcmd /etc/passwd /etc; do
		run_both '.process.args = [$a]' --arg a "$a"
		expect_fail
		case "$a" in
		# (runc's log line escapes the quotes around the name: match around them.)
		/no/*) [[ "$rt_err" == *"exec: "*"$a"*": stat $a: no such file or directory"* ]] ;;
		nosuch*) [[ "$rt_err" == *"exec: "*"$a"*": executable file not found in \$PATH"* ]] ;;
		*) [[ "$rt_err" == *"exec: "*"$a"*": permission denied"* ]] ;;
		esac
	done
}

@test "signals: nothing ignored, caught or blocked in the container, whatever the caller ignores" {
	# Ignored dispositions survive execve: the runtime resets them (runc too), with or
	# without a startContainer hook between its set-up and the exec.
	# (PIPE and HUP get handlers of the init's own while it waits for start; the
	# others do not.)
	trap '' PIPE HUP WINCH TTIN TTOU XFSZ
	run_both '.process.args = ["grep", "-E", "^Sig(Blk|Ign|Cgt)", "/proc/self/status"]'
	expect_out "$(printf 'SigBlk:\t%s\nSigIgn:\t%s\nSigCgt:\t%s' 0000000000000000 0000000000000000 0000000000000000)"
	run_both '.hooks.startContainer = [{path: "/bin/true"}]'
	expect_out "$(printf 'SigBlk:\t%s\nSigIgn:\t%s\nSigCgt:\t%s' 0000000000000000 0000000000000000 0000000000000000)"
}

@test "umask: default and set" {
	run_both '.process.args = ["sh", "-c", "umask"]'
	expect_out "0022"
	run_both '.process.user.umask = 63'
	expect_out "0077"
}

@test "noNewPrivileges: true and false" {
	run_both '.process.noNewPrivileges = true | .process.args = ["grep", "NoNewPrivs", "/proc/self/status"]'
	expect_out "NoNewPrivs:	1"
	run_both '.process.noNewPrivileges = false'
	expect_out "NoNewPrivs:	0"
}

@test "oomScoreAdj: set, and inherited when unset" {
	run_both '.process.oomScoreAdj = 500 | .process.args = ["cat", "/proc/self/oom_score_adj"]'
	expect_out "500"
	run_both 'del(.process.oomScoreAdj)'
	expect_out "$(cat /proc/self/oom_score_adj)"
}

@test "oomScoreAdj: lowering it needs CAP_SYS_RESOURCE, so it fails here" {
	# CAP_SYS_RESOURCE is not in this machine's bounding set (FACTS.md). runc: exit 1,
	# "nsexec[N]: failed to update /proc/self/oom_score_adj: Permission denied".
	run_both '.process.oomScoreAdj = -500 | .process.args = ["cat", "/proc/self/oom_score_adj"]'
	[ "$ref_status" = 1 ]
}
