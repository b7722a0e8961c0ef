#!/usr/bin/env bats
# `safehouse top`: the live view in a real terminal (tmux: capture-pane reads the
# screen, send-keys types), and `top --once`'s table for scripts. Two sandboxes run
# `sleep` under this test's root; top must show both with their memory and tasks,
# stop the one chosen with `k`, quit on `q`, and give the terminal back as it was
# (the alternate screen left, the tty's settings restored), on `q` and on SIGTERM.

load helpers

setup() {
	common_setup
	command -v tmux >/dev/null || skip "tmux is not installed (hack/setup installs it)"
	TMUX_SOCKET="safehouse-top-$$"
	PIDS=()
}

teardown() {
	tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
	[ -z "${HTTP_PID:-}" ] || { kill "$HTTP_PID" 2>/dev/null; wait "$HTTP_PID" 2>/dev/null || true; }
	"$RUNTIME" --root "$ROOT" agent stop-all >/dev/null 2>&1 || true
	local p
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	common_teardown
}

# sandbox ID: an agent sandbox running `sleep 120` in the background (its pid in PIDS).
sandbox() {
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --rootfs "$ROOTFS" --summary none --id "$1" -- sleep 120 2>"$TEST_TMP/$1.err" &
	PIDS+=($!)
}

# running ID: wait up to 30 s for sandbox ID to be running.
running() {
	local n=300
	while [ "$n" -gt 0 ]; do
		[ "$("$RUNTIME" --root "$ROOT" state "$1" 2>/dev/null | jq -r .status)" = running ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

tm() { tmux -L "$TMUX_SOCKET" "$@"; }
screen() { tm capture-pane -p -t top; }

# until_screen REGEX [SECONDS]: wait until the pane shows a line matching REGEX.
until_screen() {
	local n=$((${2:-10} * 10))
	while [ "$n" -gt 0 ]; do
		screen | grep -qE "$1" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	echo "# the screen never showed /$1/:" >&2
	screen | sed 's/^/#   /' >&2
	return 1
}

# start_top COLUMNS: a shell in a tmux pane of that width that records the tty's
# settings, runs top, then prints top's exit status and the settings again.
start_top() {
	tm new-session -d -s top -x "$1" -y 30 "env -i PATH=$PATH TERM=xterm bash --norc --noprofile"
	tm send-keys -t top "stty -g >$TEST_TMP/stty.before; $RUNTIME --root $ROOT top; echo top-exit=\$?; stty -g >$TEST_TMP/stty.after" Enter
}

@test "top: shows two sandboxes with memory and tasks, k stops the chosen one, K all, q quits and restores the terminal" {
	local a="top-$$-a" b="top-$$-b"
	sandbox "$a"
	running "$a"
	sandbox "$b"
	running "$b"
	start_top 200
	# Each row: the id, then its figures; memory as USED/LIMIT, tasks as N/LIMIT.
	until_screen "^$a .* running .* [0-9.]+[BKMG]/[0-9.]+[KMG] +[1-9][0-9]*/[0-9]+ "
	until_screen "^$b .* running .* [0-9.]+[BKMG]/[0-9.]+[KMG] +[1-9][0-9]*/[0-9]+ "
	screen | grep -q "^ID  *POLICY  *BACKEND  *STATE  *AGE  *LEFT  *CPU%  *MEM/LIMIT  *PIDS "
	[ "$(tm display -p -t top '#{alternate_on}')" = 1 ]
	# k asks which (the first selected), j moves to the second, Enter stops it.
	tm send-keys -t top k
	until_screen "stop $a\?"
	tm send-keys -t top j
	until_screen "stop $b\?"
	tm send-keys -t top Enter
	until_screen "stopped $b"
	wait "${PIDS[1]}" && code=0 || code=$?
	[ "$code" -eq 137 ]
	# The stopped sandbox leaves the view; the other still runs.
	local n=50
	while screen | grep -q "^$b " && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	! screen | grep -q "^$b "
	screen | grep -q "^$a .* running "
	[ "$("$RUNTIME" --root "$ROOT" state "$a" | jq -r .status)" = running ]
	# K asks first; anything but y cancels; y stops every sandbox (agent stop-all's way).
	tm send-keys -t top K
	until_screen "stop all 1 sandbox now\?"
	tm send-keys -t top n
	until_screen "^q quit"
	[ "$("$RUNTIME" --root "$ROOT" state "$a" | jq -r .status)" = running ]
	tm send-keys -t top K
	until_screen "stop all 1 sandbox now\?"
	tm send-keys -t top y
	until_screen "stopped 1 sandbox$"
	wait "${PIDS[0]}" && code=0 || code=$?
	[ "$code" -eq 137 ]
	tm send-keys -t top q
	until_screen "^top-exit=0$"
	[ "$(tm display -p -t top '#{alternate_on}')" = 0 ]
	[ "$(tm display -p -t top '#{cursor_flag}')" = 1 ]
	[ -s "$TEST_TMP/stty.after" ]
	[ "$(cat "$TEST_TMP/stty.before")" = "$(cat "$TEST_TMP/stty.after")" ]
}

@test "top: a narrow terminal and a resize keep the lines within the width; SIGTERM and Ctrl-C restore the terminal" {
	local a="top-$$-n"
	sandbox "$a"
	running "$a"
	start_top 200
	until_screen "^$a .* running "
	tm resize-window -t top -x 44 -y 20
	until_screen "columns hidden"
	until_screen "^$a .* [0-9.]+[BKMG]/[0-9.]+[KMG] "
	[ "$(screen | awk '{ if (length($0) > 44) n++ } END { print n + 0 }')" -eq 0 ]
	screen | grep -q "MEM/LIMIT"
	screen | grep -q "PIDS"
	kill -TERM "$(pgrep -f "^$RUNTIME --root $ROOT top$")"
	until_screen "^top-exit=143$"
	[ "$(tm display -p -t top '#{alternate_on}')" = 0 ]
	[ "$(cat "$TEST_TMP/stty.before")" = "$(cat "$TEST_TMP/stty.after")" ]
	# Ctrl-C (SIGINT from the terminal) the same way.
	rm -f "$TEST_TMP/stty.after"
	tm send-keys -t top "clear; $RUNTIME --root $ROOT top; echo top-exit=\$?; stty -g >$TEST_TMP/stty.after" Enter
	until_screen "^$a "
	tm send-keys -t top C-c
	until_screen "^top-exit=130$"
	[ "$(tm display -p -t top '#{alternate_on}')" = 0 ]
	[ "$(cat "$TEST_TMP/stty.before")" = "$(cat "$TEST_TMP/stty.after")" ]
	# Watching cost the sandbox nothing: it still runs.
	[ "$("$RUNTIME" --root "$ROOT" state "$a" | jq -r .status)" = running ]
}

@test "top --once: one table as text, every column, figures for a running sandbox" {
	local a="top-$$-o"
	sandbox "$a"
	running "$a"
	run "$RUNTIME" --root "$ROOT" top --once
	[ "$status" -eq 0 ]
	echo "$output" >&2
	[ "$(echo "$output" | head -n1 | tr -s ' ')" = "ID POLICY BACKEND STATE AGE LEFT CPU% MEM/LIMIT PIDS EGRESS OK/NO BYTES UP/DOWN ROOT+" ]
	local row
	row="$(echo "$output" | grep "^$a ")"
	read -r id policy backend state age left cpu mem pids egress bytes rootplus <<<"$row"
	[ "$policy" = default ]
	[ "$backend" = "${SAFEHOUSE_BACKEND:-native}" ]
	[ "$state" = running ]
	[[ "$age" =~ ^[0-9]+s$ ]]
	[[ "$left" =~ ^[0-9]+[smhd] ]]
	[[ "$cpu" =~ ^[0-9]+\.[0-9]$ ]]
	[[ "$mem" =~ ^[0-9.]+[BKMG]/[0-9.]+[KMG]$ ]]
	[ "${mem%%/*}" != 0B ]
	[[ "$pids" =~ ^[1-9][0-9]*/[0-9]+$ ]]
	[ "$egress" = 0/0 ]
	[ "$bytes" = 0B/0B ]
	[[ "$rootplus" =~ ^[0-9.]+[BKMG]$ ]]
	# --batch is the same; no sandbox, just the header.
	run "$RUNTIME" --root "$TEST_TMP/empty" top --batch
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	# Interactive top without a terminal says so.
	run "$RUNTIME" --root "$ROOT" top </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"must be a terminal (use --once"* ]]
}

@test "top --once: egress decisions and bytes, read from the audit log the warden appends to" {
	# A web server on the host's loopback, the one destination the policy allows; the
	# proxy refuses 127.0.0.2 (no rule) without a connection. Addresses only: no name
	# is looked up. The policy's own audit log, under this test's directory.
	python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$TEST_TMP" >"$TEST_TMP/http.log" 2>&1 &
	HTTP_PID=$!
	local port="" n=100
	while [ -z "$port" ] && [ "$n" -gt 0 ]; do
		port="$(sed -nE 's/.* port ([0-9]+) .*/\1/p' "$TEST_TMP/http.log")"
		sleep 0.1
		n=$((n - 1))
	done
	[ -n "$port" ]
	echo "hello from the host" >"$TEST_TMP/index.html"
	printf 'network:\n  allow:\n    - 127.0.0.1:%s\naudit: %s\n' "$port" "$TEST_TMP/audit.jsonl" >"$TEST_TMP/policy.yaml"
	local a="top-$$-e"
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --rootfs "$ROOTFS" --summary none --policy "$TEST_TMP/policy.yaml" --id "$a" -- \
		sh -c "timeout 5 wget -q -O- http://127.0.0.1:$port/index.html >/dev/null; timeout 5 wget -q -O- http://127.0.0.2:9/; sleep 120" \
		2>"$TEST_TMP/$a.err" &
	PIDS+=($!)
	running "$a"
	n=100
	until [ "$(grep -c '"kind":"egress"' "$TEST_TMP/audit.jsonl" 2>/dev/null)" = 2 ] || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	run "$RUNTIME" --root "$ROOT" top --once
	[ "$status" -eq 0 ]
	echo "$output" >&2
	local row
	row="$(echo "$output" | grep "^$a ")"
	read -r id policy backend state age left cpu mem pids egress bytes rootplus <<<"$row"
	[ "$egress" = 1/1 ]
	[[ "$bytes" =~ ^[1-9][0-9]*B/[1-9][0-9]*B$ ]]
	# The bytes are the warden's own figures for the connection it allowed.
	local up down
	up="$(grep '"kind":"egress"' "$TEST_TMP/audit.jsonl" | jq -s '[.[].details.decision.bytesUp] | add')"
	down="$(grep '"kind":"egress"' "$TEST_TMP/audit.jsonl" | jq -s '[.[].details.decision.bytesDown] | add')"
	[ "$bytes" = "${up}B/${down}B" ]
}
