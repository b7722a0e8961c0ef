#!/usr/bin/env bats
# containerd drives $RUNTIME through its runc shim (io.containerd.runc.v2), as
# `ctr run --runtime io.containerd.runc.v2 --runc-binary $RUNTIME` does: the shim calls
# create/start/state/exec/ps/pause/resume/kill/delete with --log FILE --log-format json
# and reads the error's msg from that log. Every test passes with RUNTIME=runc too.
#
# setup_file starts Debian's containerd with hack/containerd/config.toml on a private
# root, state and socket under a temp dir, imports the busybox image built by
# hack/mkimage, and uses its own namespace (so the shim's runc root is
# /run/containerd/runc/$CTR_NS). teardown_file stops it and removes every trace.

load helpers

IMAGE=docker.io/library/safehouse-busybox:latest

setup_file() {
	command -v containerd >/dev/null && command -v ctr >/dev/null || skip "containerd not installed"
	export CTRD_DIR CTR_NS CTR_SOCK CTRD_PID CTRD_MADE_RUN
	CTRD_DIR="$(mktemp -d /tmp/safehouse-ctrd.XXXXXX)"
	CTR_NS="safehouse-it-$$"
	CTR_SOCK="$CTRD_DIR/containerd.sock"
	CTRD_MADE_RUN=0
	[ -e /run/containerd ] || CTRD_MADE_RUN=1
	containerd --config "$REPO/hack/containerd/config.toml" \
		--root "$CTRD_DIR/root" --state "$CTRD_DIR/state" --address "$CTR_SOCK" \
		</dev/null >"$CTRD_DIR/containerd.log" 2>&1 3>&- &
	CTRD_PID=$!
	local i
	for i in $(seq 100); do
		ctr -a "$CTR_SOCK" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	ctr -a "$CTR_SOCK" version >/dev/null
	"$REPO/hack/mkimage" --rootfs "$ROOTFS" --name "$IMAGE" "$CTRD_DIR/image.tar" 2>/dev/null
	ctr -a "$CTR_SOCK" -n "$CTR_NS" images import "$CTRD_DIR/image.tar" >/dev/null
}

teardown_file() {
	[ -n "${CTRD_DIR:-}" ] || return 0
	local c
	if [ -S "$CTR_SOCK" ]; then
		for c in $(ctr -a "$CTR_SOCK" -n "$CTR_NS" tasks ls -q 2>/dev/null); do
			ctr -a "$CTR_SOCK" -n "$CTR_NS" tasks kill -s KILL "$c" >/dev/null 2>&1 || true
			sleep 0.2
			ctr -a "$CTR_SOCK" -n "$CTR_NS" tasks rm -f "$c" >/dev/null 2>&1 || true
		done
		for c in $(ctr -a "$CTR_SOCK" -n "$CTR_NS" containers ls -q 2>/dev/null); do
			ctr -a "$CTR_SOCK" -n "$CTR_NS" containers rm "$c" >/dev/null 2>&1 || true
		done
	fi
	if [ -n "${CTRD_PID:-}" ] && kill -0 "$CTRD_PID" 2>/dev/null; then
		kill -TERM "$CTRD_PID"
		for _ in $(seq 100); do kill -0 "$CTRD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$CTRD_PID" 2>/dev/null || true
		wait "$CTRD_PID" 2>/dev/null || true
	fi
	# Mounts (snapshots, rootfs) under the private root, deepest first.
	awk -v d="$CTRD_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	# The shim's cgroups are /<namespace>/<id> in each hierarchy.
	find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path "*/$CTR_NS*" 2>/dev/null | sort -r |
		while read -r d; do rmdir "$d" 2>/dev/null || true; done
	rm -rf "/run/containerd/runc/$CTR_NS"
	if [ "$CTRD_MADE_RUN" = 1 ]; then
		rmdir /run/containerd/runc /run/containerd/fifo /run/containerd/s /run/containerd 2>/dev/null || true
	fi
	rm -rf "$CTRD_DIR"
}

# Tests here need no per-test bundle, but a temp dir and id counter are handy.
setup() { common_setup; }
teardown() { common_teardown; }

c() { ctr -a "$CTR_SOCK" -n "$CTR_NS" "$@"; }

# The runtime options every run uses: containerd's runc shim, with RUNTIME as its binary.
SHIM=(--runtime io.containerd.runc.v2 --runc-binary "$RUNTIME")

# under_pty CMD...: CMD with a new pseudo-terminal as its controlling terminal, stdin
# and stdout (util-linux script); prints what CMD wrote (CR and NUL stripped) and
# exits with CMD's exit code.
under_pty() {
	local rc=0
	timeout 30 script -qec "$(printf '%q ' "$@")" /dev/null </dev/null >"$TEST_TMP/pty.out" 2>&1 || rc=$?
	tr -d '\r\000' <"$TEST_TMP/pty.out"
	return "$rc"
}

# typing_under_pty TEXT CMD...: under_pty, with TEXT typed at the terminal a second
# after CMD starts (a line at a time).
typing_under_pty() {
	local text="$1" rc=0
	shift
	{ sleep 1; printf '%s' "$text"; sleep 2; } |
		timeout 30 script -qec "$(printf '%q ' "$@")" /dev/null >"$TEST_TMP/pty.out" 2>&1 || rc=$?
	tr -d '\r\000' <"$TEST_TMP/pty.out"
	return "$rc"
}

# wait_task ID STATUS: wait up to 5 s for `ctr tasks ls` to show ID in STATUS.
wait_task() {
	local i
	for i in $(seq 50); do
		[ "$(c tasks ls | awk -v id="$1" '$1 == id { print $3 }')" = "$2" ] && return 0
		sleep 0.1
	done
	echo "# task $1: $(c tasks ls | awk -v id="$1" '$1 == id')" >&2
	return 1
}

# task_pid ID: the task's init pid on the host.
task_pid() { c tasks ls | awk -v id="$1" '$1 == id { print $2 }'; }

# gone PID...: wait up to 5 s until none of the processes exists (or is a zombie).
gone() {
	local i p alive
	for i in $(seq 50); do
		alive=
		for p in "$@"; do
			[ -e "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && alive="$alive $p"
		done
		[ -z "$alive" ] && return 0
		sleep 0.1
	done
	echo "# still alive:$alive" >&2
	return 1
}

# rm_task ID: kill, delete and remove a detached task and its container.
rm_task() {
	c tasks kill -s KILL "$1" >/dev/null 2>&1 || true
	wait_task "$1" STOPPED || true
	c tasks rm "$1" >/dev/null
	c containers rm "$1"
}

@test "containerd: ctr run --runtime io.containerd.runc.v2 --runc-binary RUNTIME prints the output" {
	run c run --rm "${SHIM[@]}" "$IMAGE" "$(new_id)" echo hi
	[ "$status" = 0 ]
	[ "$output" = hi ]
}

@test "containerd: the exit code propagates through ctr" {
	run c run --rm "${SHIM[@]}" "$IMAGE" "$(new_id)" sh -c 'exit 7'
	[ "$status" = 7 ]
}

@test "containerd: the process sees the image's environment and its own namespaces" {
	run c run --rm "${SHIM[@]}" "$IMAGE" "$(new_id)" sh -c 'echo $PATH; id -u; hostname; readlink /proc/self/ns/pid'
	[ "$status" = 0 ]
	[ "${lines[0]}" = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/pid)" ]
}

@test "containerd: detached task: running, kill, stopped, removed" {
	local id
	id="$(new_id)"
	c run -d "${SHIM[@]}" "$IMAGE" "$id" sleep 100 >/dev/null
	run c tasks ls
	[[ "$output" == *"$id"*RUNNING* ]]
	c tasks kill -s KILL "$id"
	local i
	for i in $(seq 50); do
		[[ "$(c tasks ls)" == *"$id"*STOPPED* ]] && break
		sleep 0.1
	done
	[[ "$(c tasks ls)" == *"$id"*STOPPED* ]]
	c tasks rm "$id" >/dev/null
	c containers rm "$id"
	[[ "$(c tasks ls -q)" != *"$id"* ]]
}

# An agent sandbox (io.safehouse.policy) run by containerd: the shim, not safehouse, is
# the init's parent and reaps it, so its exit status reaches the audit log through the
# sandbox's warden (taskstats), once, as it happens. runc ignores the annotation.
@test "containerd: an agent sandbox's exit status (the shim reaps it) is in its audit log, once" {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (runc ignores the annotation)"
	local log="$TEST_TMP/ctr.audit.jsonl" id
	run c run --rm --annotation io.safehouse.policy=default --annotation "io.safehouse.audit=$log" "${SHIM[@]}" "$IMAGE" "$(new_id)" sh -c 'exit 7'
	[ "$status" = 7 ]
	"$RUNTIME" audit verify "$log"
	[ "$(jq -s 'map(select(.kind == "exit")) | length' "$log")" = 1 ]
	jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 7}' "$log"
	# Detached, killed: the signal is on the record before the task is removed.
	rm -f "$log" "$log.head"
	id="$(new_id)"
	c run -d --annotation io.safehouse.policy=default --annotation "io.safehouse.audit=$log" "${SHIM[@]}" "$IMAGE" "$id" sleep 100 >/dev/null
	c tasks kill -s KILL "$id"
	wait_task "$id" STOPPED
	local i
	for i in $(seq 50); do grep -q '"kind":"exit"' "$log" && break; sleep 0.1; done
	jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 137, "signal": 9}' "$log"
	! grep -q '"kind":"delete"' "$log" || false
	c tasks rm "$id" >/dev/null
	c containers rm "$id"
	[ "$(jq -s 'map(select(.kind == "exit")) | length' "$log")" = 1 ]
	grep -q '"kind":"delete"' "$log"
	"$RUNTIME" audit verify "$log"
}

@test "containerd: a failing create shows the runtime's error message" {
	run c run --rm "${SHIM[@]}" "$IMAGE" "$(new_id)" /no/such/binary
	[ "$status" != 0 ]
	# The shim reads the last error msg from `--log-format json` and passes it on.
	[[ "$output" == *"/no/such/binary"* ]]
	[ -z "$(c tasks ls -q)" ]
}

# logging_runtime: a wrapper around RUNTIME (printed path) that appends each argv the
# shim passes to $TEST_TMP/argv.log and, when the runtime fails, keeps a copy of the
# --log file (which containerd removes with the bundle) as $TEST_TMP/failed-log.json.
logging_runtime() {
	cat >"$TEST_TMP/runtime" <<WRAPPER
#!/bin/sh
echo "\$*" >>"$TEST_TMP/argv.log"
log= prev=
for a in "\$@"; do [ "\$prev" = --log ] && log="\$a"; prev="\$a"; done
"$RUNTIME" "\$@"
rc=\$?
[ "\$rc" != 0 ] && [ -n "\$log" ] && cp "\$log" "$TEST_TMP/failed-log.json"
exit "\$rc"
WRAPPER
	chmod 0755 "$TEST_TMP/runtime"
	echo "$TEST_TMP/runtime"
}

@test "containerd: a broken bundle's error reaches ctr as the runtime's JSON log message" {
	local wrapper
	wrapper="$(logging_runtime)"
	# A bind mount whose source is missing: only the runtime finds out, at create.
	run c run --rm --runtime io.containerd.runc.v2 --runc-binary "$wrapper" \
		--mount type=bind,src=/nonexistent-safehouse-src,dst=/mnt,options=rbind "$IMAGE" "$(new_id)" true
	[ "$status" != 0 ]
	# The shim called the runtime with a JSON log, which the runtime wrote on failure...
	grep -q -- '--log-format json create ' "$TEST_TMP/argv.log"
	[ -s "$TEST_TMP/failed-log.json" ]
	local msg
	msg="$(jq -r 'select(.level == "error") | .msg' "$TEST_TMP/failed-log.json" | tail -1)"
	[[ "$msg" == *"/nonexistent-safehouse-src"* ]]
	# ...and ctr shows exactly that message (containerd: "OCI runtime create failed: MSG").
	echo "# ctr: $output" >&2
	echo "# log: $msg" >&2
	[[ "$output" == *"OCI runtime create failed: $msg"* ]]
	[ -z "$(c tasks ls -q)" ]
}

@test "containerd: the shim's calls: create/start/delete with --root, --log, --log-format json, --pid-file" {
	local wrapper id
	wrapper="$(logging_runtime)"
	id="$(new_id)"
	run c run --rm --runtime io.containerd.runc.v2 --runc-binary "$wrapper" "$IMAGE" "$id" true
	[ "$status" = 0 ]
	cat "$TEST_TMP/argv.log" >&2
	grep -qE "^--root /run/containerd/runc/$CTR_NS --log [^ ]*/log.json --log-format json create --bundle [^ ]+ --pid-file [^ ]*/init.pid $id\$" "$TEST_TMP/argv.log"
	grep -qE -- "--log-format json start $id\$" "$TEST_TMP/argv.log"
	grep -qE -- "--log-format json delete $id\$" "$TEST_TMP/argv.log"
}

@test "containerd: ctr run -t gives the process a terminal (console socket)" {
	run under_pty ctr -a "$CTR_SOCK" -n "$CTR_NS" run --rm -t "${SHIM[@]}" "$IMAGE" "$(new_id)" \
		sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-ttys; exit 3'
	echo "$output" >&2
	[ "$status" = 3 ]
	[[ "$output" =~ /dev/pts/[0-9]+ ]]
	[[ "$output" == *both-ttys* ]]
}

@test "containerd: ctr run -t: an interactive shell reads what is typed at the terminal" {
	run typing_under_pty $'echo typed-$((6*7))\nexit 5\n' \
		ctr -a "$CTR_SOCK" -n "$CTR_NS" run --rm -t "${SHIM[@]}" "$IMAGE" "$(new_id)" sh
	echo "$output" >&2
	[ "$status" = 5 ]
	[[ "$output" == *typed-42* ]]
}

@test "containerd: ctr tasks exec: output, exit code, the container's namespaces; exec -t has a terminal" {
	local id
	id="$(new_id)"
	c run -d "${SHIM[@]}" "$IMAGE" "$id" sleep 100 >/dev/null
	run c tasks exec --exec-id e1 "$id" sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "; exit 5'
	[ "$status" = 5 ]
	[ "${lines[0]}" = in-exec ]
	[ "${lines[1]}" = "sleep 100 " ] # pid 1 of the exec's pid namespace is the task's init
	run under_pty ctr -a "$CTR_SOCK" -n "$CTR_NS" tasks exec -t --exec-id e2 "$id" sh -c 'tty; exit 4'
	echo "$output" >&2
	[ "$status" = 4 ]
	[[ "$output" =~ /dev/pts/[0-9]+ ]]
	# A detached exec shows up in `ctr tasks ps` (the runtime's `ps --format json`).
	c tasks exec -d --fifo-dir "$TEST_TMP/fifo" --exec-id e3 "$id" sleep 77 # ctr leaves these fifos
	local i
	for i in $(seq 30); do [ "$(c tasks ps "$id" | awk 'NR > 1' | wc -l)" = 2 ] && break; sleep 0.1; done
	[ "$(c tasks ps "$id" | awk 'NR > 1' | wc -l)" = 2 ]
	rm_task "$id"
}

@test "containerd: ctr tasks kill sends SIGTERM to the init; the exit code reaches ctr" {
	local id
	id="$(new_id)"
	# sh as pid 1 ignores SIGTERM unless it traps it.
	c run -d "${SHIM[@]}" "$IMAGE" "$id" sh -c 'trap "exit 143" TERM; while :; do sleep 0.1; done' >/dev/null
	wait_task "$id" RUNNING
	sleep 0.2
	c tasks kill "$id"
	wait_task "$id" STOPPED
	run c tasks rm "$id"
	[[ "$output" == *"exit code 143"* ]] # ctr's warning on a non-zero exit
	c containers rm "$id"
}

@test "containerd: ctr tasks kill -a reaches every process of the task (kill --all)" {
	local id pids
	id="$(new_id)"
	# In the host's pid namespace, killing the init alone would leave its children.
	c run -d "${SHIM[@]}" --with-ns "pid:/proc/$$/ns/pid" "$IMAGE" "$id" \
		sh -c 'sleep 1000 & sleep 1000 & wait' >/dev/null
	local i
	for i in $(seq 30); do [ "$(c tasks ps "$id" | awk 'NR > 1' | wc -l)" = 3 ] && break; sleep 0.1; done
	pids="$(c tasks ps "$id" | awk 'NR > 1 { print $1 }')"
	[ "$(echo "$pids" | wc -l)" = 3 ]
	c tasks kill -a -s KILL "$id"
	wait_task "$id" STOPPED
	gone $pids
	c tasks rm "$id" >/dev/null
	c containers rm "$id"
}

@test "containerd: ctr tasks rm -f removes a running task" {
	local id pid
	id="$(new_id)"
	c run -d "${SHIM[@]}" "$IMAGE" "$id" sleep 100 >/dev/null
	pid="$(task_pid "$id")"
	c tasks rm -f "$id" >/dev/null
	gone "$pid"
	[[ "$(c tasks ls -q)" != *"$id"* ]]
	c containers rm "$id"
}

@test "containerd: a killed shim is cleaned up with delete --force of the running container" {
	local id pid shim
	id="$(new_id)"
	# The task's fifos in the test's dir: a killed shim leaves them behind.
	c run -d "${SHIM[@]}" --fifo-dir "$TEST_TMP/fifo" "$IMAGE" "$id" sleep 100 >/dev/null
	pid="$(task_pid "$id")"
	shim="$(ps -o ppid= -p "$pid" | tr -d ' ')"
	[[ "$(cat "/proc/$shim/comm")" == containerd-shim* ]]
	# containerd notices the shim is gone and runs `containerd-shim-runc-v2 delete`,
	# which calls `RUNTIME delete --force ID` on the still running container.
	kill -KILL "$shim"
	gone "$pid"
	# delete --force removes the state after the process is gone: give it a moment.
	for _ in $(seq 50); do [ -e "/run/containerd/runc/$CTR_NS/$id" ] || break; sleep 0.1; done
	[ ! -e "/run/containerd/runc/$CTR_NS/$id" ]
	c containers rm "$id"
	# The dead shim's socket: /run/containerd/s/sha256(address/namespace/id).
	rm -f "/run/containerd/s/$(printf %s "$CTR_SOCK/$CTR_NS/$id" | sha256sum | cut -d' ' -f1)"
}

@test "containerd: ctr tasks metrics reads the task's cgroups" {
	local id
	id="$(new_id)"
	c run -d "${SHIM[@]}" "$IMAGE" "$id" sh -c 'while :; do :; done' >/dev/null
	sleep 0.3
	run c tasks metrics --format json "$id"
	[ "$status" = 0 ]
	echo "$output" | jq -c '{pids, cpu: .cpu.usage.total, mem: .memory.usage.usage}' >&2
	[ "$(echo "$output" | jq '.pids.current')" -ge 1 ]
	[ "$(echo "$output" | jq '.cpu.usage.total')" -gt 0 ]
	[ "$(echo "$output" | jq '.memory.usage.usage')" -gt 0 ]
	rm_task "$id"
}

@test "containerd: ctr tasks pause and resume" {
	local id
	id="$(new_id)"
	c run -d "${SHIM[@]}" "$IMAGE" "$id" sleep 100 >/dev/null
	c tasks pause "$id"
	wait_task "$id" PAUSED
	c tasks resume "$id"
	wait_task "$id" RUNNING
	rm_task "$id"
}

@test "containerd: the gvisor backend (annotation io.safehouse.backend=gvisor): run, exit code, exec, kill, rm" {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (runc ignores the annotation)"
	local id
	id="$(new_id)"
	# Foreground: output and exit code through the shim, from inside gVisor (its
	# kernel log names it).
	run c run --rm "${SHIM[@]}" --annotation io.safehouse.backend=gvisor "$IMAGE" "$id" \
		sh -c 'dmesg | grep -c "Starting gVisor"; exit 5'
	[ "$status" = 5 ]
	[ "$output" = 1 ]
	[ ! -e "/run/containerd/runc/$CTR_NS/$id" ]
	# Detached: the state the shim's runtime root holds records the backend; exec, kill
	# and delete reach runsc without being told again.
	id="$(new_id)"
	c run -d "${SHIM[@]}" --annotation io.safehouse.backend=gvisor "$IMAGE" "$id" \
		sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done'
	wait_task "$id" RUNNING
	grep -q '"backend":"gvisor"' "/run/containerd/runc/$CTR_NS/$id/state.json"
	[ "$(task_pid "$id")" = "$("$RUNTIME" --root "/run/containerd/runc/$CTR_NS" state "$id" | jq -r .pid)" ]
	run c tasks exec --exec-id e1 "$id" sh -c 'dmesg | grep -c "Starting gVisor"; exit 4'
	[ "$status" = 4 ]
	[ "$output" = 1 ]
	c tasks kill "$id"
	wait_task "$id" STOPPED
	[ "$(c tasks ls | awk -v id="$id" '$1 == id { print $3 }')" = STOPPED ]
	c tasks rm "$id" >/dev/null
	c containers rm "$id"
	[ ! -e "/run/containerd/runc/$CTR_NS/$id" ]
}
