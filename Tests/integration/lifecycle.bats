#!/usr/bin/env bats
# Lifecycle and command-line tests against $RUNTIME alone (not differential): what runc
# does here is written next to each check. A created container inherits the caller's
# stdio, so `create` never runs under bats' `run` (a command substitution would wait for
# the container): its output goes to files instead.

load helpers

# create_c ID [ARGS...]: create ID from $BUNDLE, stdio to $TEST_TMP/ID.{out,err}.
create_c() {
	local id="$1"
	shift
	rt create --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_TMP/$id.out" 2>"$TEST_TMP/$id.err"
}

sleeper() { config '.process.args = ["sleep", "100"]'; }

@test "lifecycle: create -> created with pid -> start -> running -> stopped -> delete" {
	config '.process.args = ["sh", "-c", "sleep 0.5; echo done"]'
	local id
	id="$(new_id)"
	create_c "$id"
	run rt state "$id"
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq -r .status)" = created ]
	[ "$(echo "$output" | jq -r .id)" = "$id" ]
	[ "$(echo "$output" | jq -r .bundle)" = "$BUNDLE" ]
	[ -n "$(echo "$output" | jq -r .ociVersion)" ]
	local pid
	pid="$(echo "$output" | jq -r .pid)"
	[ "$pid" -gt 0 ]
	kill -0 "$pid"
	# The process has not run yet.
	[ ! -s "$TEST_TMP/$id.out" ]

	rt start "$id"
	run rt state "$id"
	[ "$(echo "$output" | jq -r .status)" = running ]
	[ "$(echo "$output" | jq -r .pid)" = "$pid" ]

	wait_status "$id" stopped
	[ "$(cat "$TEST_TMP/$id.out")" = done ]
	# runc: a stopped container's state has "pid": 0.
	[ "$(rt state "$id" | jq -r .pid)" = 0 ]

	rt delete "$id"
	run rt state "$id"
	[ "$status" != 0 ] # runc: "container does not exist", exit 1
	[ -z "$(root_entries)" ]
}

@test "lifecycle: state is derived from the process (killed from outside -> stopped)" {
	sleeper
	local id
	id="$(new_id)"
	rt run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	[ "$(rt state "$id" | jq -r .status)" = running ]
	kill -9 "$(rt state "$id" | jq -r .pid)"
	wait_status "$id" stopped
	rt delete "$id" # runc: a stopped container deletes without --force
}

@test "lifecycle: start twice fails; start of a stopped container fails" {
	config '.process.args = ["sleep", "0.3"]'
	local id
	id="$(new_id)"
	create_c "$id"
	rt start "$id"
	run rt start "$id"
	[ "$status" = 1 ] # runc: "cannot start an already running container"
	wait_status "$id" stopped
	run rt start "$id"
	[ "$status" = 1 ] # runc: "cannot start a container that has stopped"
	rt delete "$id"
}

@test "lifecycle: delete of a running container needs --force" {
	sleeper
	local id pid
	id="$(new_id)"
	create_c "$id"
	rt start "$id"
	pid="$(rt state "$id" | jq -r .pid)"
	run rt delete "$id"
	[ "$status" = 1 ] # runc: "cannot delete container ID that is not stopped: running"
	[ "$(rt state "$id" | jq -r .status)" = running ]
	rt delete --force "$id"
	run rt state "$id"
	[ "$status" != 0 ]
	# The process is gone (or a zombie being reaped) once delete --force returns.
	for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]
}

@test "lifecycle: delete of a created (never started) container works without --force" {
	sleeper
	local id
	id="$(new_id)"
	create_c "$id"
	rt delete "$id" # runc 1.1: allowed, the init is killed
	run rt state "$id"
	[ "$status" != 0 ]
}

@test "lifecycle: delete of an unknown id fails, delete --force of it succeeds" {
	run rt delete nosuchcontainer
	[ "$status" = 1 ] # runc: "container does not exist"
	run rt delete --force nosuchcontainer
	[ "$status" = 0 ] # runc: silently succeeds (engines rely on this)
	run rt state nosuchcontainer
	[ "$status" = 1 ]
}

@test "kill: by name and number (KILL, SIGKILL, 9, TERM, sigterm, 15)" {
	# PID 1 of a pid namespace gets only the signals it has a handler for (SIGKILL
	# and SIGSTOP from outside are forced), so the process traps TERM.
	config '.process.args = ["sh", "-c", "trap \"exit 0\" TERM; sleep 100 & wait"]'
	local sig id
	for sig in KILL SIGKILL 9 TERM sigterm 15; do
		id="$(new_id)"
		create_c "$id"
		rt start "$id"
		# The shell may not have set its trap yet when start returns (PID 1 ignores
		# TERM without one): repeat the signal until the container stops.
		for _ in $(seq 30); do
			rt kill "$id" "$sig" 2>/dev/null || true
			[ "$(rt state "$id" | jq -r .status)" = stopped ] && break
			sleep 0.2
		done
		wait_status "$id" stopped
		rt delete "$id"
	done
}

@test "kill: default signal is SIGTERM; a created container can be killed" {
	# runc 1.1: while created, PID 1 is runc's own init (Go, which dies on SIGTERM),
	# so a plain `kill` of a created container stops it even though the process-to-be
	# (sleep) would ignore SIGTERM as PID 1. safehouse's waiting init must do the same.
	sleeper
	local id
	id="$(new_id)"
	create_c "$id"
	rt kill "$id"
	wait_status "$id" stopped
	rt delete "$id"
}

@test "kill: unknown signals fail; signal 0 probes; a stopped container refuses" {
	sleeper
	local id
	id="$(new_id)"
	create_c "$id"
	rt start "$id"
	run rt kill "$id" BOGUS
	[ "$status" = 1 ] # runc: unknown signal "BOGUS"
	run rt kill "$id" 0
	[ "$status" = 0 ]
	[ "$(rt state "$id" | jq -r .status)" = running ]
	rt kill "$id" KILL
	wait_status "$id" stopped
	run rt kill "$id" KILL
	[ "$status" = 1 ] # runc 1.1: "container not running"
	rt delete "$id"
}

@test "kill --all" {
	config '.linux.namespaces |= map(select(.type != "pid"))' # --all matters without a pid ns
	config '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
	local id
	id="$(new_id)"
	create_c "$id"
	rt start "$id"
	sleep 0.2
	rt kill --all "$id" KILL
	wait_status "$id" stopped
	rt delete "$id"
}

@test "kill: a stopped container refuses with runc's words; kill --all of it succeeds and reaches what is left in its cgroup" {
	# Without a pid namespace of its own, the init's children outlive it (in its cgroup).
	config '.linux.namespaces |= map(select(.type != "pid"))'
	config '.process.args = ["sh", "-c", "sleep 1000 & echo $! >/dev/shm/leftover; exit 0"]'
	config '.mounts += [{"destination": "/dev/shm", "type": "bind", "source": $d, "options": ["rbind"]}]' --arg d "$TEST_TMP"
	local id leftover
	id="$(new_id)"
	create_c "$id"
	rt start "$id"
	wait_status "$id" stopped
	leftover="$(cat "$TEST_TMP/leftover")"
	kill -0 "$leftover"
	# containerd's runc shim matches "container not running" in the runtime's error
	# (it means: already gone); runc 1.1 says exactly that.
	run rt kill "$id" KILL
	[ "$status" = 1 ]
	[[ "$output" == *"container not running"* ]]
	# The shim sends `kill --all ID 9` on every init exit and when the CRI deletes a
	# task; runc 1.1 signals the cgroup's processes and exits 0.
	run rt kill --all "$id" KILL
	[ "$status" = 0 ]
	local i
	for i in $(seq 50); do kill -0 "$leftover" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$leftover" 2>/dev/null || false
	run rt kill --all "$id" KILL
	[ "$status" = 0 ]
	rt delete "$id"
}

@test "list: table, --format json, -q" {
	sleeper
	local a b
	a="$(new_id)"
	b="$(new_id)"
	create_c "$a"
	create_c "$b"
	rt start "$b"
	run rt list
	[ "$status" = 0 ]
	[[ "${lines[0]}" == "ID"*"PID"*"STATUS"*"BUNDLE"*"CREATED"*"OWNER" ]]
	[[ "$output" == *"$a"*created*"$BUNDLE"* ]]
	[[ "$output" == *"$b"*running*"$BUNDLE"* ]]
	run rt list --format json
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq -r --arg a "$a" '.[] | select(.id == $a) | .status')" = created ]
	[ "$(echo "$output" | jq -r --arg b "$b" '.[] | select(.id == $b) | .status')" = running ]
	[ "$(echo "$output" | jq -r --arg b "$b" '.[] | select(.id == $b) | .bundle')" = "$BUNDLE" ]
	[ "$(echo "$output" | jq -r --arg b "$b" '.[] | select(.id == $b) | .pid > 0')" = true ]
	run rt list -q
	[ "$status" = 0 ]
	[ "$(echo "$output" | sort)" = "$(printf '%s\n' "$a" "$b" | sort)" ]
	run rt list --format bogus
	[ "$status" = 1 ] # runc: "invalid format option"
	rt delete --force "$a"
	rt delete --force "$b"
	# runc prints "null" for an empty JSON list; [] is accepted as well.
	run rt list --format json
	[ "$status" = 0 ]
	[ "$output" = null ] || [ "$(echo "$output" | jq length)" = 0 ]
	run rt list -q
	[ "$output" = "" ]
}

@test "ids: invalid ids are refused and nothing is made" {
	sleeper
	local bad
	# "-x" is left out: runc parses it as a flag.
	for bad in "../x" "" "a/b" "." ".." "a b" "x:y" "../../etc" "$(printf 'a%.0s' $(seq 300))"; do
		run --separate-stderr rt create --bundle "$BUNDLE" "$bad" </dev/null
		[ "$status" = 1 ] || { echo "# id '$bad': exit $status" >&2; return 1; }
		[ -n "$stderr" ]
		[ -z "$(root_entries)" ] || { echo "# id '$bad' left: $(root_entries)" >&2; return 1; }
	done
	[ ! -e "$TEST_TMP/x" ] && [ ! -e "$TEST_TMP/etc" ]
	# "a..b" and "x_y-z.1+2" are valid ids (runc: ^[\w+-\.]+$ minus "." and "..").
	create_c "a..b"
	create_c "x_y-z.1+2"
	rt delete --force "a..b"
	rt delete --force "x_y-z.1+2"
}

@test "create: the same id twice fails; concurrent creates of one id: exactly one wins" {
	sleeper
	local id
	id="$(new_id)"
	create_c "$id"
	run rt create --bundle "$BUNDLE" "$id" </dev/null
	[ "$status" = 1 ] # runc: "container with given ID already exists"
	rt delete --force "$id"

	id="$(new_id)"
	local i pids=()
	for i in 1 2 3 4; do
		# 3>&-: bats waits for its fd 3 to close (see the fd-leak test below).
		(rt create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 && echo ok >"$TEST_TMP/c$i" || echo fail >"$TEST_TMP/c$i") 3>&- &
		pids+=($!)
	done
	# Not a bare `wait`: with BATS_TEST_TIMEOUT, bats has a watchdog child of its own.
	wait "${pids[@]}"
	[ "$(cat "$TEST_TMP"/c[1-4] | grep -c ok)" = 1 ]
	[ "$(rt state "$id" | jq -r .status)" = created ]
	rt delete --force "$id"
}

@test "create: the caller's file descriptors do not reach the container (created or started)" {
	# runc: the created init holds only stdio and its own fds (exec fifo, ...); the
	# started process holds exactly 0, 1, 2. A leaked fd keeps the caller's pipes open
	# (a shim's, or bats' fd 3, which then hangs bats).
	sleeper
	local id pid
	id="$(new_id)"
	echo marker >"$TEST_TMP/marker"
	rt create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 7<"$TEST_TMP/marker" 3>&-
	pid="$(rt state "$id" | jq -r .pid)"
	run ls -l "/proc/$pid/fd"
	[[ "$output" != *"$TEST_TMP/marker"* ]] || { echo "# created init holds the caller's fd 7: $output" >&2; return 1; }
	rt start "$id"
	sleep 0.2
	[ "$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')" = "0 1 2 " ]
}

@test "create --preserve-fds N: fds 3 .. 3+N-1 reach the process" {
	config '.process.args = ["sh", "-c", "cat <&3; cat <&4; echo $(ls /proc/$$/fd)"]'
	echo three >"$TEST_TMP/three"
	echo four >"$TEST_TMP/four"
	run rt run --preserve-fds 2 --bundle "$BUNDLE" "$(new_id)" 3<"$TEST_TMP/three" 4<"$TEST_TMP/four" 5<"$TEST_TMP/four" </dev/null
	[ "$status" = 0 ]
	# fd 5 (not preserved) is closed; the shell's own command substitution uses one fd.
	[ "${lines[0]}" = three ]
	[ "${lines[1]}" = four ]
	[ "${lines[2]}" = "0 1 2 3 4 5" ] || [ "${lines[2]}" = "0 1 2 3 4 6" ]
}

@test "systemd socket activation of the runtime: LISTEN_FDS descriptors reach the process before --preserve-fds ones, with LISTEN_FDS=N LISTEN_PID=1 (as runc)" {
	config '.process.args = ["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3; cat <&4; cat <&5"]'
	echo three >"$TEST_TMP/three"
	echo four >"$TEST_TMP/four"
	echo five >"$TEST_TMP/five"
	# LISTEN_PID is the runtime's own pid: the shell execs it.
	run env RT="$RUNTIME" ROOT="$ROOT" BUNDLE="$BUNDLE" ID="$(new_id)" LISTEN_FDS=2 \
		sh -c 'export LISTEN_PID=$$; exec "$RT" --root "$ROOT" run --preserve-fds 1 --bundle "$BUNDLE" "$ID"' \
		3<"$TEST_TMP/three" 4<"$TEST_TMP/four" 5<"$TEST_TMP/five" </dev/null
	[ "$status" = 0 ]
	[ "${lines[0]}" = "2 1" ]
	[ "${lines[1]}" = three ]
	[ "${lines[2]}" = four ]
	[ "${lines[3]}" = five ]
	# Variables inherited from someone else (LISTEN_PID not ours) are left alone: only
	# --preserve-fds counts, and the process's env does not change.
	config '.process.args = ["sh", "-c", "echo ${LISTEN_FDS:-none}; cat <&3; { cat <&4; } 2>/dev/null || echo closed"]'
	run env LISTEN_FDS=2 LISTEN_PID=1 "$RUNTIME" --root "$ROOT" run --preserve-fds 1 --bundle "$BUNDLE" "$(new_id)" \
		3<"$TEST_TMP/three" 4<"$TEST_TMP/four" </dev/null
	[ "$status" = 0 ]
	[ "${lines[0]}" = none ]
	[ "${lines[1]}" = three ]
	[ "${lines[2]}" = closed ]
}

@test "run: the caller's fds beyond stdio are closed in the process" {
	config '.process.args = ["sh", "-c", "echo $(ls /proc/$$/fd)"]'
	run rt run --bundle "$BUNDLE" "$(new_id)" 7<"$BATS_TEST_FILENAME" 9<"$BATS_TEST_FILENAME" </dev/null
	[ "$status" = 0 ]
	# 3 is the shell's own pipe for $(...).
	[ "$output" = "0 1 2 3" ]
}

@test "create: a failure (bad args[0]) leaves nothing behind and says why in one line" {
	config '.process.args = ["/no/such/binary"]'
	local id
	id="$(new_id)"
	run --separate-stderr rt create --bundle "$BUNDLE" "$id" </dev/null
	[ "$status" = 1 ]
	[ "$output" = "" ]
	[ "${#stderr_lines[@]}" = 1 ]
	[[ "$stderr" == *"/no/such/binary"* ]]
	[ -z "$(root_entries)" ]
	run rt state "$id"
	[ "$status" != 0 ]
	run rt list -q
	[ "$output" = "" ]
}

@test "create: a missing bundle or config fails in one line" {
	run --separate-stderr rt create --bundle "$TEST_TMP/nope" "$(new_id)" </dev/null
	[ "$status" = 1 ]
	[ "${#stderr_lines[@]}" = 1 ]
	echo '{"ociVersion": "1.0.2", "process": ' >"$BUNDLE/config.json"
	run --separate-stderr rt create --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 1 ]
	[ "${#stderr_lines[@]}" = 1 ]
	[ -z "$(root_entries)" ]
}

@test "run --detach, --pid-file" {
	sleeper
	local id
	id="$(new_id)"
	rt run -d --pid-file "$TEST_TMP/pid" --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	[ "$(rt state "$id" | jq -r .status)" = running ]
	[ "$(cat "$TEST_TMP/pid")" = "$(rt state "$id" | jq -r .pid)" ]
	rt delete --force "$id"

	id="$(new_id)"
	create_c "$id" --pid-file "$TEST_TMP/pid2"
	[ "$(cat "$TEST_TMP/pid2")" = "$(rt state "$id" | jq -r .pid)" ]
}

@test "run: foreground passes stdin, stdout, stderr and the exit code" {
	config '.process.args = ["sh", "-c", "read x; echo out:$x; echo err:$x >&2; exit 9"]'
	run --separate-stderr rt run --bundle "$BUNDLE" "$(new_id)" <<<"hello"
	[ "$status" = 9 ]
	[ "$output" = "out:hello" ]
	[ "$stderr" = "err:hello" ]
	[ -z "$(rt list -q)" ] # run removes the container when it exits
}

@test "--log FILE --log-format json: lines with level, msg, time" {
	config '.process.args = ["/no/such/binary"]'
	run --separate-stderr rt --log "$TEST_TMP/log.json" --log-format json create --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 1 ]
	[ -s "$TEST_TMP/log.json" ]
	# Every line is a JSON object with string level, msg and time.
	jq -e -s 'all(.[]; (.level | type) == "string" and (.msg | type) == "string" and (.time | type) == "string")' "$TEST_TMP/log.json"
	# The last error names the problem (containerd's shim shows its msg).
	[[ "$(jq -r -s 'map(select(.level == "error")) | last | .msg' "$TEST_TMP/log.json")" == *"/no/such/binary"* ]]
	# runc also prints the error, without the JSON wrapping, on stderr.
	[[ "$stderr" == *"/no/such/binary"* ]]
}

@test "--log with --debug on success: still valid JSON lines" {
	config '.process.args = ["true"]'
	rt --debug --log "$TEST_TMP/log.json" --log-format json run --bundle "$BUNDLE" "$(new_id)" </dev/null
	if [ -s "$TEST_TMP/log.json" ]; then
		jq -e -s 'all(.[]; has("level") and has("msg") and has("time"))' "$TEST_TMP/log.json"
	fi
}

@test "--version: three lines (name version, commit, spec)" {
	run "$RUNTIME" --version
	[ "$status" = 0 ]
	[[ "${lines[0]}" =~ ^[a-z]+\ version\ [0-9] ]]
	[[ "${lines[1]}" =~ ^commit:\  ]]
	[[ "${lines[2]}" =~ ^spec:\ 1\.[0-9]+\.[0-9]+ ]]
	# runc from Debian adds "go:" and "libseccomp:" lines.
}

@test "spec: writes config.json, refuses to overwrite" {
	mkdir "$TEST_TMP/s"
	cd "$TEST_TMP/s"
	"$RUNTIME" spec
	jq -e '.ociVersion and .process.args and .root.path == "rootfs" and (.linux.namespaces | length > 0)' config.json
	cp config.json before.json
	run "$RUNTIME" spec
	[ "$status" = 1 ] # runc: "File config.json exists. Remove it first"
	cmp config.json before.json
	mkdir b
	"$RUNTIME" spec --bundle b
	[ -f b/config.json ]
	run "$RUNTIME" spec --bundle b
	[ "$status" = 1 ]
	rm b/config.json
	"$RUNTIME" spec --rootless --bundle b
	jq -e '(.linux.namespaces | map(.type) | index("user")) and (.linux.uidMappings | length > 0)' b/config.json
}

@test "spec: the generated config runs the busybox rootfs" {
	mkdir "$TEST_TMP/s"
	"$RUNTIME" spec --bundle "$TEST_TMP/s"
	jq --arg r "$ROOTFS" '.root.path = $r | .process.terminal = false | .process.args = ["echo", "ok"]' \
		"$TEST_TMP/s/config.json" >"$BUNDLE/config.json"
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[ "$output" = ok ]
}

# What `spec` writes is what tools patch: it must be runc's config field by field. The
# deliberate differences, each removed before the comparison: the hostname
# ("safehouse"), ociVersion (the spec version safehouse implements), /sys/devices/virtual/tpm among the masked paths (current runc masks
# it too), and with --rootless no /sys/fs/cgroup mount (the /sys rbind shows it).
spec_compare() {
	local flags="$1"
	mkdir -p "$TEST_TMP/ref-spec" "$TEST_TMP/rt-spec"
	(cd "$TEST_TMP/ref-spec" && "$REFERENCE" spec $flags)
	"$RUNTIME" spec $flags --bundle "$TEST_TMP/rt-spec"
	local drop='del(.hostname) | del(.ociVersion) | .linux.maskedPaths -= ["/sys/devices/virtual/tpm"]'
	[ "$flags" = --rootless ] && drop="$drop"' | .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	jq -S "$drop" "$TEST_TMP/ref-spec/config.json" >"$TEST_TMP/ref-spec.json"
	jq -S "$drop" "$TEST_TMP/rt-spec/config.json" >"$TEST_TMP/rt-spec.json"
	diff -u "$TEST_TMP/ref-spec.json" "$TEST_TMP/rt-spec.json" >&2
}

@test "spec: the same config as the reference's spec, field by field" {
	spec_compare ""
	# No cgroup namespace by default (runc 1.1's list).
	[ "$(jq -c '[.linux.namespaces[].type]' "$TEST_TMP/rt-spec/config.json")" = '["pid","network","ipc","uts","mount"]' ]
}

@test "spec --rootless: the same config as the reference's spec --rootless, field by field" {
	spec_compare --rootless
}

@test "spec: a tool that adds a cgroup namespace to the default config gets no duplicate" {
	mkdir "$TEST_TMP/s"
	"$RUNTIME" spec --bundle "$TEST_TMP/s"
	jq --arg r "$ROOTFS" '.root.path = $r | .process.terminal = false | .process.args = ["echo", "ok"]
		| .linux.namespaces += [{type: "cgroup"}]' "$TEST_TMP/s/config.json" >"$BUNDLE/config.json"
	run_both
	expect_ok
	expect_out ok
}

@test "namespaces: a true duplicate is refused, naming both entries" {
	config '.linux.namespaces += [{type: "ipc"}]'
	local n
	n="$(jq '.linux.namespaces | length' "$BUNDLE/config.json")"
	local first
	first="$(jq '[.linux.namespaces[].type] | index("ipc")' "$BUNDLE/config.json")"
	run_both '.process.args = ["true"]'
	expect_fail
	echo "# $rt_err" >&2
	[ -z "$(root_entries)" ]
	# runc 1.1 says "malformed spec file: duplicated ns" and names no entry.
	runtime_is_runc11 && return 0
	[[ "$rt_err" == *"invalid configuration"* ]]
	[[ "$rt_err" == *"linux.namespaces[$((n - 1))]"* ]]
	[[ "$rt_err" == *"linux.namespaces[$first]"* ]]
	[[ "$rt_err" == *ipc* ]]
}

# host_mounts: the host's mount table, one "mountpoint fstype" line each (ids left out,
# so mounts other runs make and remove meanwhile show as lines, not as renumbering).
host_mounts() { awk '{ for (i = 7; $i != "-"; i++); print $5, $(i + 1) }' /proc/self/mountinfo | sort; }

@test "namespaces: without a mount namespace, masked and read-only paths are refused in runc's words; nothing is made" {
	config '.linux.namespaces |= map(select(.type != "mount"))'
	cmd 'echo ran'
	host_mounts >"$TEST_TMP/mounts.before"
	# runc refuses these before it makes anything, so the reference runs too.
	run_both
	expect_fail
	[[ "$ref_err" == *"unable to restrict sys entries without a private MNT namespace"* ]]
	[[ "$rt_err" == *"unable to restrict sys entries without a private MNT namespace"* ]]
	[[ "$rt_err" == *"invalid configuration"*"linux.maskedPaths"* ]]
	run_both '.linux.maskedPaths = []'
	expect_fail
	[[ "$rt_err" == *"linux.readonlyPaths: unable to restrict sys entries without a private MNT namespace"* ]]
	[ -z "$(root_entries)" ]
	host_mounts | diff "$TEST_TMP/mounts.before" - | grep -q "$ROOTFS" && { echo "# a mount landed on the host" >&2; false; }
	true
}

@test "namespaces: without a mount namespace, mounts, devices, a read-only root and rootfsPropagation are refused; a bare chroot runs" {
	# runc 1.1 makes the mounts, device nodes and propagation of such a container in
	# the host's mount table, where they stay after it: the reference is not run, nor
	# runc as the runtime under test.
	runtime_is_runc11 && skip "runc 1.1 would make these in the host's mount table"
	config '.linux.namespaces |= map(select(.type != "mount")) | .linux.maskedPaths = [] | .linux.readonlyPaths = []'
	cmd 'echo ran'
	host_mounts >"$TEST_TMP/mounts.before"
	local id field
	for field in mounts root.readonly linux.devices linux.rootfsPropagation; do
		case "$field" in
		mounts) ;;
		root.readonly) config '.mounts = []' ;;
		linux.devices) config '.root.readonly = false | .linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]' ;;
		linux.rootfsPropagation) config 'del(.linux.devices) | .linux.rootfsPropagation = "private"' ;;
		esac
		id="$(new_id)"
		run rt run --bundle "$BUNDLE" "$id" </dev/null
		[ "$status" = 1 ]
		[[ "$output" == *"invalid configuration: $field: unable to "*" without a private MNT namespace"* ]] || { echo "# $field: $output" >&2; false; }
		[ "$(echo "$output" | wc -l)" = 1 ]
		[ -z "$(root_entries)" ]
	done
	# With none of them the container is only chrooted into its root, and runs.
	config 'del(.linux.rootfsPropagation)'
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[ "$output" = ran ]
	[ -z "$(host_mounts | diff "$TEST_TMP/mounts.before" - | grep -F "$ROOTFS")" ]
}

@test "namespaces: a terminal without a mount namespace binds no pty over the host's /dev/console" {
	# The host's own root, so /dev/ptmx and /dev/console are the host's. runc 1.1
	# would bind "/" over the host's "/" (and the pty over its /dev/console).
	runtime_is_runc11 && skip "runc 1.1 would change the host's mount table"
	config '.root = {"path": "/"} | .linux.namespaces |= map(select(.type != "mount"))'
	config '.linux.maskedPaths = [] | .linux.readonlyPaths = [] | .mounts = [] | del(.linux.devices)'
	config '.process.terminal = true | .process.args = ["sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo tty-ok"]'
	local id
	id="$(new_id)"
	console_run "$id"
	rt run -d --console-socket "$TEST_TMP/console.sock" --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	wait "$CONSOLE_PID"
	wait_status "$id" stopped
	rt delete "$id"
	[ "$(tr -d '\r' <"$TEST_TMP/console.out" | grep -v '^$')" = tty-ok ]
	! awk '$5 == "/dev/console"' /proc/self/mountinfo | grep -q .
}

@test "features: valid JSON with ociVersionMin/Max and all hooks" {
	run --separate-stderr "$RUNTIME" features
	[ "$status" = 0 ]
	echo "$output" | jq -e '.ociVersionMin and .ociVersionMax'
	[ "$(echo "$output" | jq -c '.hooks | sort')" = '["createContainer","createRuntime","poststart","poststop","prestart","startContainer"]' ]
	echo "$output" | jq -e '.linux.namespaces | index("user") and index("network")'
}

# console socket: the runtime sends the pty master to the socket; consoleSize applies.
console_run() {
	local id="$1" sock="$TEST_TMP/console.sock"
	rm -f "$sock"
	python3 "$BATS_TEST_DIRNAME/console_socket.py" "$sock" "${@:2}" \
		>"$TEST_TMP/console.out" 2>"$TEST_TMP/console.err" &
	CONSOLE_PID=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ]
}

@test "console socket: run -d with terminal and consoleSize (stty size)" {
	# runc refuses --console-socket for a foreground run ("cannot use console socket
	# if runc will not detach or allocate tty"), and a foreground terminal run needs
	# the caller's own tty: so -d. The fd arrives with the message "/dev/ptmx".
	config '.process.terminal = true | .process.consoleSize = {height: 30, width: 100}'
	config '.process.args = ["sh", "-c", "stty size; tty; [ -t 0 ] && [ -t 1 ] && echo tty-ok; exit 5"]'
	local id
	id="$(new_id)"
	console_run "$id"
	rt run -d --console-socket "$TEST_TMP/console.sock" --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	wait "$CONSOLE_PID"
	wait_status "$id" stopped
	rt delete "$id"
	local out
	out="$(tr -d '\r' <"$TEST_TMP/console.out")"
	[ "$(echo "$out" | sed -n 1p)" = "30 100" ]
	[[ "$(echo "$out" | sed -n 2p)" == /dev/pts/* || "$(echo "$out" | sed -n 2p)" == /dev/console ]]
	[ "$(echo "$out" | sed -n 3p)" = tty-ok ]
	grep -q '^name: ' "$TEST_TMP/console.err"
}

@test "console socket: create/start, input reaches the process" {
	config '.process.terminal = true | .process.consoleSize = {height: 24, width: 80}'
	config '.process.args = ["sh", "-c", "stty size; read line; echo got:$line"]'
	local id
	id="$(new_id)"
	console_run "$id" --input $'ping\n'
	rt create --console-socket "$TEST_TMP/console.sock" --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	rt start "$id"
	wait "$CONSOLE_PID"
	wait_status "$id" stopped
	grep -q '^24 80' <(tr -d '\r' <"$TEST_TMP/console.out")
	grep -q '^got:ping' <(tr -d '\r' <"$TEST_TMP/console.out")
	rt delete "$id"
}

@test "console socket: terminal without --console-socket in create fails" {
	config '.process.terminal = true | .process.args = ["true"]'
	run rt create --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 1 ]
	[ -z "$(root_entries)" ]
}

@test "delete --force: a create that died before writing state leaves no cgroup behind" {
	# What a runtime killed between cgroup creation and state.json leaves: the state
	# directory with its config copy, and the container's cgroups (one with a process).
	local id="it-crash-$$"
	mkdir -p "$ROOT/$id"
	cp "$BUNDLE/config.json" "$ROOT/$id/config.json"
	local mine
	mine="$(grep ':pids:' /proc/self/cgroup | cut -d: -f3)"
	local pids_dir="/sys/fs/cgroup/pids${mine%/}/$id"
	mkdir -p "$pids_dir" "/sys/fs/cgroup/freezer${mine%/}/$id"
	# The create lists the directories it is about to make before it makes them: only
	# those listed are the container's to remove.
	printf '%s\n' "$pids_dir" "/sys/fs/cgroup/freezer${mine%/}/$id" >"$ROOT/$id/cgroups.created"
	sleep 60 &
	local orphan=$!
	echo "$orphan" >"$pids_dir/cgroup.procs"
	rt delete --force "$id"
	[ ! -d "$ROOT/$id" ]
	[ ! -d "$pids_dir" ]
	[ ! -d "/sys/fs/cgroup/freezer${mine%/}/$id" ]
	! kill -0 "$orphan" 2>/dev/null || false
}
