#!/usr/bin/env bats
# exec and ps on a running container. Non-differential where the answer is fixed
# (namespace links, exit codes, the pid list containerd reads).

load helpers

start_sleeper() {
	config '.process.args = ["sleep", "300"]'
	rt run --detach --bundle "$BUNDLE" "$1" </dev/null >/dev/null
	rt state "$1" | jq -r .pid
}

@test "exec: the process is in every namespace and cgroup of the container" {
	local id pid
	id="$(new_id)"
	pid="$(start_sleeper "$id")"
	run rt exec "$id" sh -c 'for n in pid net mnt uts ipc; do readlink /proc/self/ns/$n; done; grep pids /proc/self/cgroup'
	[ "$status" = 0 ]
	local i=0 n
	for n in pid net mnt uts ipc; do
		[ "${lines[$i]}" = "$(readlink /proc/$pid/ns/$n)" ]
		i=$((i + 1))
	done
	[ "${lines[5]}" = "$(grep pids /proc/$pid/cgroup)" ]
	rt delete --force "$id"
}

# As the init at create: born in the container's v2 cgroup, its own thread moved into
# each v1 one ("0" to tasks), never a cgroup.procs write by pid (each of which waits
# for an RCU grace period in the kernel); the membership is the init's in every
# hierarchy.
@test "exec: joins every cgroup of the container without a move by pid" {
	local id pid v1 v2
	id="$(new_id)"
	pid="$(start_sleeper "$id")"
	v1="$(awk '$3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/" { n++ } END { print n + 0 }' /proc/self/mounts)"
	v2="$(awk '$3 == "cgroup2" { n++ } END { print n + 0 }' /proc/self/mounts)"
	strace -f -qq -e trace=clone3,openat -o "$TEST_TMP/trace" "$RUNTIME" --root "$ROOT" exec "$id" cat /proc/self/cgroup >"$TEST_TMP/exec.out"
	[ "$(cat "$TEST_TMP/exec.out")" = "$(cat /proc/$pid/cgroup)" ]
	if [ "$v2" -gt 0 ]; then
		grep -q 'clone3(.*CLONE_INTO_CGROUP' "$TEST_TMP/trace"
	fi
	[ "$(grep -c 'cgroup.procs", O_WRONLY' "$TEST_TMP/trace")" = 0 ]
	[ "$(grep -c '/tasks", O_WRONLY' "$TEST_TMP/trace")" = "$v1" ]
	rt delete --force "$id"
}

@test "exec: exit code, stdout and stderr reach the caller" {
	local id
	id="$(new_id)"
	start_sleeper "$id" >/dev/null
	run --separate-stderr rt exec "$id" sh -c 'echo out; echo err >&2; exit 7'
	[ "$status" = 7 ]
	[ "$output" = out ]
	[ "$stderr" = err ]
	run rt exec "$id" sh -c 'kill -9 $$'
	[ "$status" = 137 ]
	rt delete --force "$id"
}

@test "exec: --user, --cwd, --env, --cap, --no-new-privs" {
	local id
	id="$(new_id)"
	start_sleeper "$id" >/dev/null
	run rt exec --user 1000:1000 --cwd /tmp --env FOO=bar --no-new-privs "$id" sh -c 'id -u; id -g; pwd; echo $FOO; grep NoNewPrivs /proc/self/status'
	[ "$status" = 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	[ "${lines[2]}" = /tmp ]
	[ "${lines[3]}" = bar ]
	[ "$(echo "${lines[4]}" | tr -d ' \t')" = "NoNewPrivs:1" ]
	run rt exec --cap CAP_SYS_ADMIN "$id" grep CapEff /proc/self/status
	[ "$status" = 0 ]
	# The default spec's three capabilities plus CAP_SYS_ADMIN (bit 21).
	[ "$(echo "$output" | awk '{print $2}')" = 0000000020200420 ]
	rt delete --force "$id"
}

@test "exec --process: a process.json as containerd's shim passes it; --detach --pid-file" {
	local id
	id="$(new_id)"
	start_sleeper "$id" >/dev/null
	cat >"$TEST_TMP/process.json" <<'JSON'
{"args": ["sh", "-c", "echo from-process-json; echo $X"], "env": ["X=1", "PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}}
JSON
	run rt exec --process "$TEST_TMP/process.json" "$id"
	[ "$status" = 0 ]
	[ "${lines[0]}" = from-process-json ]
	[ "${lines[1]}" = 1 ]
	rt exec --detach --pid-file "$TEST_TMP/exec.pid" "$id" sleep 30
	local epid
	epid="$(cat "$TEST_TMP/exec.pid")"
	[ -d "/proc/$epid" ]
	[ "$(readlink /proc/$epid/ns/pid)" = "$(readlink /proc/$(rt state "$id" | jq -r .pid)/ns/pid)" ]
	rt delete --force "$id"
	! [ -d "/proc/$epid" ] || [ "$(awk '{print $3}' /proc/$epid/stat)" = Z ]
}

@test "exec: a missing command fails in one line; a stopped container refuses" {
	local id
	id="$(new_id)"
	start_sleeper "$id" >/dev/null
	run rt exec "$id" /no/such/binary
	[ "$status" != 0 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"/no/such/binary"* ]]
	rt kill "$id" KILL
	wait_status "$id" stopped
	run rt exec "$id" true
	[ "$status" = 255 ] # runc: exec failures exit 255
	rt delete "$id"
}

@test "exec --tty --console-socket: the pty master reaches the socket and carries the output" {
	local id
	id="$(new_id)"
	start_sleeper "$id" >/dev/null
	python3 "$BATS_TEST_DIRNAME/console_socket.py" "$TEST_TMP/console.sock" --timeout 10 >"$TEST_TMP/console.out" 2>"$TEST_TMP/console.err" &
	local listener=$!
	for _ in $(seq 50); do [ -S "$TEST_TMP/console.sock" ] && break; sleep 0.1; done
	rt exec --tty --console-socket "$TEST_TMP/console.sock" --detach "$id" sh -c 'tty; echo tty-ok'
	wait "$listener" || true
	grep -q tty-ok "$TEST_TMP/console.out"
	grep -q '/dev/pts/' "$TEST_TMP/console.out" "$TEST_TMP/console.err"
	rt delete --force "$id"
}

@test "ps: json lists the container's host pids; table keeps the header and only them" {
	local id pid
	id="$(new_id)"
	pid="$(start_sleeper "$id")"
	rt exec --detach "$id" sleep 100
	run rt ps --format json "$id"
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq length)" = 2 ]
	echo "$output" | jq -e --argjson p "$pid" 'index($p) != null'
	run rt ps "$id"
	[ "$status" = 0 ]
	[[ "${lines[0]}" == *PID* ]]
	[ "${#lines[@]}" = 3 ]
	run rt ps "$id" -- -o pid,comm
	[ "${#lines[@]}" = 3 ]
	rt delete --force "$id"
}
