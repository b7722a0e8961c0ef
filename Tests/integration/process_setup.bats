#!/usr/bin/env bats
# Process set-up against the reference (runc): a working directory only root may enter,
# and the owner of the process's terminal (run -t, run -d --console-socket, exec -t).

load helpers

PTY_RUN="$BATS_TEST_DIRNAME/pty_run.py"

@test "cwd: a directory only root may enter works for a non-root user, as in runc" {
	# /root is 0700 root in the image: the chdir is made before the user switch.
	config '.process.user = {uid: 1000, gid: 1000} | .process.cwd = "/root"'
	run_both '.process.args = ["sh", "-c", "pwd; ls . >/dev/null 2>&1; echo ls=$?; cd /root 2>/dev/null; echo cd=$?"]'
	expect_out $'/root\nls=1\ncd=2'
}

@test "cwd: a non-root user who keeps CAP_DAC_OVERRIDE works in /root as root would" {
	config '.process.user = {uid: 1000, gid: 1000} | .process.cwd = "/root"'
	config '.process.capabilities |= with_entries(.value += ["CAP_DAC_OVERRIDE"])'
	config '.process.capabilities.ambient = ["CAP_DAC_OVERRIDE"] | .process.capabilities.inheritable = ["CAP_DAC_OVERRIDE"]'
	run_both '.process.args = ["sh", "-c", "pwd; ls . >/dev/null && echo ls=ok"]'
	expect_out $'/root\nls=ok'
}

@test "cwd: a missing directory is made; a file as cwd fails create with the path named" {
	config '.process.user = {uid: 1000, gid: 1000}'
	run_both '.process.cwd = "/tmp/made/here" | .process.args = ["pwd"]'
	expect_out /tmp/made/here
	run_both '.process.cwd = "/bin/busybox" | .process.args = ["pwd"]'
	expect_fail
	[[ "$rt_err" == *"/bin/busybox"* ]]
	[ -z "$(root_entries)" ]
}

@test "exec --cwd: a directory only root may enter works for a non-root --user, as in runc" {
	config '.process.args = ["sleep", "300"]'
	local rid tid
	rid="$(new_id)"
	tid="$(new_id)"
	ref run -d --bundle "$BUNDLE" "$rid" </dev/null >/dev/null
	rt run -d --bundle "$BUNDLE" "$tid" </dev/null >/dev/null
	local want got
	want="$(ref exec --user 1000:1000 --cwd /root "$rid" sh -c 'pwd; ls . 2>/dev/null; echo ls=$?' 2>&1)"
	got="$(rt exec --user 1000:1000 --cwd /root "$tid" sh -c 'pwd; ls . 2>/dev/null; echo ls=$?' 2>&1)"
	[ "$want" = $'/root\nls=1' ]
	[ "$got" = "$want" ]
}

# The terminal's owner and group as the process sees them, and its name.
TTY_CMD='tty; stat -L -c "%u %g %a" /proc/self/fd/0; ls -lnL /proc/self/fd/0 | awk "{ print \$3, \$4 }"'

# console_listen: a console-socket peer in the background (CONSOLE_PID), its output in
# $TEST_TMP/$1.out.
console_listen() {
	local name="$1" sock="$TEST_TMP/$1.sock"
	python3 "$BATS_TEST_DIRNAME/console_socket.py" "$sock" --timeout 10 >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	CONSOLE_PID=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ]
}

@test "terminal: run -d --console-socket: the pty belongs to the process's user and the tty group" {
	config '.process.terminal = true | .process.user = {uid: 1000, gid: 1000}'
	config '.process.args = ["sh", "-c", $c]' --arg c "$TTY_CMD"
	local who
	for who in ref rt; do
		console_listen "$who"
		"$who" run -d --console-socket "$TEST_TMP/$who.sock" --bundle "$BUNDLE" "$(new_id)" </dev/null >/dev/null
		wait "$CONSOLE_PID" || true
	done
	local want got
	want="$(tr -d '\r' <"$TEST_TMP/ref.out")"
	got="$(tr -d '\r' <"$TEST_TMP/rt.out")"
	echo "# reference: $want" >&2
	echo "# runtime: $got" >&2
	[[ "$want" == /dev/pts/0$'\n'"1000 5 620"$'\n'"1000 5" ]]
	[ "$got" = "$want" ]
}

@test "terminal: exec -t --console-socket: the pty belongs to the exec's user" {
	config '.process.args = ["sleep", "300"]'
	local who id
	for who in ref rt; do
		id="$(new_id)"
		"$who" run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null
		console_listen "$who"
		"$who" exec --tty --console-socket "$TEST_TMP/$who.sock" --detach --user 1234:1234 "$id" sh -c "$TTY_CMD"
		wait "$CONSOLE_PID" || true
	done
	local want got
	want="$(tr -d '\r' <"$TEST_TMP/ref.out")"
	got="$(tr -d '\r' <"$TEST_TMP/rt.out")"
	echo "# reference: $want" >&2
	echo "# runtime: $got" >&2
	[[ "$want" == /dev/pts/*$'\n'"1234 5 620"$'\n'"1234 5" ]]
	[ "$got" = "$want" ]
}

@test "terminal: run -t on a real terminal: the pty belongs to the process's user" {
	config '.process.terminal = true | .process.user = {uid: 1000, gid: 1000}'
	config '.process.args = ["sh", "-c", $c]' --arg c "$TTY_CMD"
	local want got
	want="$(python3 "$PTY_RUN" --timeout 20 -- "$REFERENCE" --root "$REF_ROOT" run --bundle "$BUNDLE" "$(new_id)")"
	got="$(python3 "$PTY_RUN" --timeout 20 -- "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)")"
	echo "# reference: $want" >&2
	echo "# runtime: $got" >&2
	[[ "$want" == *$'\n'"1000 5 620"$'\n'"1000 5"* ]]
	[ "$(echo "$got" | sed 1d)" = "$(echo "$want" | sed 1d)" ]
}

# The group is the container's "tty" group (runc keeps the gid devpts gave the pty, 5
# here, whatever the image calls it): not differential.
@test "terminal: the pty's group is the gid of \"tty\" in the container's /etc/group" {
	sed 's/^tty:x:5:/tty:x:7:/' "$ROOTFS/etc/group" >"$TEST_TMP/group"
	grep -q '^tty:x:7:' "$TEST_TMP/group"
	config '.mounts += [{destination: "/etc/group", type: "bind", source: $g, options: ["bind", "ro"]}]' --arg g "$TEST_TMP/group"
	config '.process.terminal = true | .process.user = {uid: 1000, gid: 1000}'
	config '.process.args = ["sh", "-c", $c]' --arg c "$TTY_CMD"
	console_listen rt
	rt run -d --console-socket "$TEST_TMP/rt.sock" --bundle "$BUNDLE" "$(new_id)" </dev/null >/dev/null
	wait "$CONSOLE_PID" || true
	[ "$(tr -d '\r' <"$TEST_TMP/rt.out" | sed -n 3p)" = "1000 7" ]
}
