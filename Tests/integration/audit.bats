#!/usr/bin/env bats
# The audit trail: every record kind from real runs (agent run, an engine's
# create/start/kill/delete of an annotated bundle, the emergency stop, a runc run of an
# `agent spec --hooks` spec), `audit verify` on intact, edited, truncated, reordered and
# re-chained logs, concurrent writers, and no record at all for a plain container.
# Needs the real runtime (RUNTIME=safehouse) and safehouse-audit next to it.

load helpers

setup() {
	common_setup
	LOG="$TEST_TMP/a.audit.jsonl"
	KEY="$TEST_TMP/key"
	head -c 32 /dev/urandom >"$KEY"
	cat >"$TEST_TMP/p.yaml" <<-YAML
		audit: $LOG
		auditKey: $KEY
		limits:
		  timeout: 30s
	YAML
}

teardown() { common_teardown; }

audit() { "$RUNTIME" audit "$@"; }
kinds() { audit show "$1" --format json | jq -r .kind | paste -sd' '; }

@test "agent run: create, start, exit, delete and the change set, chained and MACed in the policy's log" {
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" --id "au-$$-1" -- sh -c 'echo x >/etc/note; exit 3'
	[ "$status" -eq 3 ]
	[ "$(kinds "$LOG")" = "open create start exit delete changes close" ]
	audit show "$LOG" --kind exit --format json | jq -e '.details.code == 3 and .id == "au-'$$'-1" and .seq == 3'
	audit show "$LOG" --kind changes --format json | jq -e '.details.entries | map(select(.path == "/etc/note" and .kind == "created")) | length == 1'
	audit show "$LOG" --kind create --format json | jq -e '.details.by.uid == 0 and (.time | test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{9}Z$")) and (.mac | length == 64)'
	audit show "$LOG" --kind open --format json | jq -e '(.details.logId | length == 32) and .details.mac == true'
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 0 ]
	[[ "$output" == *"intact, closed, 7 records, MACs verified, head verified"* ]]
	run audit show "$LOG" --kind start
	[ "$status" -eq 0 ]
	[[ "$output" == *" #2 au-$$-1 start "*"pid="* ]]
}

@test "agent run: a timeout is a limit record; the default log is /var/log/safehouse/ID.audit.jsonl" {
	local id="au-$$-2"
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --rootfs "$ROOTFS" --id "$id" --timeout 1s -- sleep 30
	[ "$status" -eq 124 ]
	[ "$(kinds "$id")" = "open create start exit delete limit changes close" ]
	audit show "$id" --kind limit --format json | jq -e '.details.limit | startswith("timeout")'
	audit show "$id" --kind exit --format json | jq -e '.details.signal == 9 and .details.code == 137'
	run --separate-stderr audit verify "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "/var/log/safehouse/$id.audit.jsonl: intact, closed, 8 records, head matches" ]
	[[ "$stderr" == *"without --key the head is only a checksum"* ]]
}

@test "agent run: the memory limit hit is a limit record" {
	cat >"$TEST_TMP/tight.yaml" <<-YAML
		audit: $LOG
		limits:
		  memory: 32Mi
		  timeout: 60s
	YAML
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/tight.yaml" --rootfs "$ROOTFS" --summary none -- sh -c 'x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x="$x$x"; done'
	[ "$status" -eq 137 ]
	audit show "$LOG" --kind limit --format json | jq -e 'select(.details.limit | startswith("memory (1 OOM kill"))'
	audit verify "$LOG"
}

@test "agent run: the pids limit hit is a limit record" {
	cat >"$TEST_TMP/tight.yaml" <<-YAML
		audit: $LOG
		limits:
		  pids: 16
		  timeout: 60s
	YAML
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/tight.yaml" --rootfs "$ROOTFS" --summary none -- sh -c 'for i in $(seq 40); do sleep 5 & done'
	audit show "$LOG" --kind limit --format json | jq -e 'select(.details.limit | startswith("pids ("))'
	audit verify "$LOG"
}

@test "audit verify: names the first bad line of an edited, reordered, truncated or re-chained log" {
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" --id "au-$$-3" --summary none -- true
	cp "$LOG" "$TEST_TMP/good"
	cp "$LOG.head" "$TEST_TMP/good.head"
	# Edited: the exit code of line 4 (seq 3).
	sed '4s/"code":0/"code":1/' "$TEST_TMP/good" >"$LOG"
	run audit verify "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 5: prev is not the SHA-256 of line 4"* ]]
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 4: mac does not match"* ]]
	# Reordered: lines 3 and 4 swapped.
	{ sed -n 1,2p "$TEST_TMP/good"; sed -n 4p "$TEST_TMP/good"; sed -n 3p "$TEST_TMP/good"; sed -n '5,$p' "$TEST_TMP/good"; } >"$LOG"
	run audit verify "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 3: sequence number 3, expected 2"* ]]
	# Removed: line 2.
	sed '2d' "$TEST_TMP/good" >"$LOG"
	run audit verify "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 2: sequence number 2, expected 1"* ]]
	# Truncated mid-line (a torn last line): reported, and never appended to.
	head -c -7 "$TEST_TMP/good" >"$LOG"
	run audit verify "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 7: torn"* ]]
	run audit append "$LOG" --id x --kind y
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 7 is torn"* ]]
	cmp "$LOG" <(head -c -7 "$TEST_TMP/good")
	# Re-chained without the key: line 4 edited, every prev after it recomputed.
	# The head (the count and the last line's hash) rewritten to match, without a mac.
	python3 - "$TEST_TMP/good" "$LOG" <<-'PY'
		import hashlib, sys, re, json
		lines = open(sys.argv[1]).read().splitlines()
		lines[3] = lines[3].replace('"code":0', '"code":1')
		for i in range(4, len(lines)):
		    h = hashlib.sha256(lines[i - 1].encode()).hexdigest()
		    lines[i] = re.sub(r'"prev":"[0-9a-f]{64}"', '"prev":"%s"' % h, lines[i])
		open(sys.argv[2], "w").write("\n".join(lines) + "\n")
		logid = json.loads(lines[0])["details"]["logId"]
		last = hashlib.sha256(lines[-1].encode()).hexdigest()
		open(sys.argv[2] + ".head", "w").write('{"logId":"%s","count":%d,"last":"%s"}\n' % (logid, len(lines), last))
	PY
	run audit verify "$LOG"
	[ "$status" -eq 0 ]
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 4: mac does not match"* ]]
	cp "$TEST_TMP/good" "$LOG"
	cp "$TEST_TMP/good.head" "$LOG.head"
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 0 ]
}

@test "audit: concurrent writers neither interleave nor lose a record" {
	local w pids=()
	for w in 1 2 3 4; do
		(for i in $(seq 25); do audit append "$LOG" --id "w$w" --kind k --details "{\"i\":$i,\"pad\":\"$(head -c 3000 /dev/zero | tr '\0' x)\"}" || exit 1; done) &
		pids+=($!)
	done
	# A reader while they write sees the log and its head as one (read under one lock).
	(while [ ! -e "$TEST_TMP/writers-done" ]; do
		local out
		[ -s "$LOG" ] || continue
		out="$(audit verify "$LOG" 2>&1)" || echo "$out" >>"$TEST_TMP/verify-errors"
	done) &
	local reader=$!
	for w in "${pids[@]}"; do wait "$w"; done
	touch "$TEST_TMP/writers-done"
	wait "$reader"
	[ ! -s "$TEST_TMP/verify-errors" ] || { cat "$TEST_TMP/verify-errors"; false; }
	run audit verify "$LOG"
	[ "$status" -eq 0 ]
	[[ "$output" == *"open, 101 records, intact so far (not closed: w"* ]]
	for w in 1 2 3 4; do
		[ "$(audit show "$LOG" --format json | jq -r "select(.kind == \"k\" and .id == \"w$w\") | .details.i" | paste -sd,)" = "$(seq -s, 25)" ]
	done
}

@test "engines: an annotated bundle's create, start, pause, resume, exec, kill, delete are recorded; a plain container writes nothing" {
	local id="au-$$-e"
	config '.annotations["io.safehouse.policy"] = "default" | .annotations["io.safehouse.audit"] = "'"$LOG"'" | .root.readonly = false'
	cmd 'sleep 60'
	rt create --bundle "$BUNDLE" "$id"
	rt start "$id"
	rt pause "$id"
	rt resume "$id"
	rt exec "$id" sh -c 'echo x >/etc/engine-note'
	rt kill "$id" KILL
	wait_status "$id" stopped
	rt delete "$id"
	# The exit is the warden's (taskstats: safehouse is not the init's parent here).
	# gvisor: the warden watches runsc's sandbox process, which exits 128 + signal.
	[ "$(kinds "$LOG")" = "open create start pause resume exec kill exit warden changes delete close" ]
	if [ "${SAFEHOUSE_BACKEND:-native}" = gvisor ]; then
		audit show "$LOG" --kind exit --format json | jq -e '.details == {"code": 137}'
	else
		audit show "$LOG" --kind exit --format json | jq -e '.details == {"code": 137, "signal": 9}'
	fi
	audit show "$LOG" --kind warden --format json | jq -e '.details.report.exitRecorded == true and .details.report.exitCode == 137'

	audit show "$LOG" --kind exec --format json | jq -e '.details.args == ["sh", "-c", "echo x >/etc/engine-note"]'
	audit show "$LOG" --kind kill --format json | jq -e '.details.signal == 9 and .details.status == "running"'
	audit show "$LOG" --kind warden --format json | jq -e '.details.report.reason == "exited"'
	audit show "$LOG" --kind changes --format json | jq -e '.details.entries | map(select(.path == "/etc/engine-note")) | length == 1'
	audit verify "$LOG"
	# Only io.safehouse.policy, naming a policy file in the root's policy directory:
	# its audit log and key.
	rm -f "$LOG" "$LOG.head"
	printf 'policies = %s\n' "$TEST_TMP" >>"$ROOT/safehouse.conf"
	config '.annotations = {"io.safehouse.policy": "'"$TEST_TMP/p.yaml"'"}'
	cmd 'true'
	rt run --bundle "$BUNDLE" "$id-p"
	[ "$(kinds "$LOG")" = "open create start exit warden changes delete close" ]
	audit verify "$LOG" --key "$KEY"
	config '.annotations["io.safehouse.audit"] = "'"$LOG"'"'
	# A failing hook is on the record, and fails the create.
	rm -f "$LOG" "$LOG.head"
	config '.hooks.createRuntime = [{"path": "/bin/false"}]'
	run rt create --bundle "$BUNDLE" "$id-h"
	[ "$status" -eq 1 ]
	[ "$(kinds "$LOG")" = "open hook" ]
	audit show "$LOG" --kind hook --format json | jq -e '.details.stage == "createRuntime" and (.details.error | contains("exit status 1"))'
	config 'del(.hooks)'
	# No annotation: no log, here or in the default place.
	rm -f "$LOG" "$LOG.head"
	config 'del(.annotations)'
	cmd 'true'
	rt run --bundle "$BUNDLE" "au-$$-plain"
	[ ! -e "$LOG" ]
	[ ! -e "/var/log/safehouse/au-$$-plain.audit.jsonl" ]
}

@test "engines: a detached sandbox's exit status is on the record when it exits, once, before the engine's delete" {
	local id="au-$$-x"
	config '.annotations["io.safehouse.policy"] = "default" | .annotations["io.safehouse.audit"] = "'"$LOG"'" | .annotations["io.safehouse.audit.key"] = "'"$KEY"'"'
	# Multi-threaded would not change it: the leader's record carries the group's status.
	cmd 'exit 7'
	rt create --bundle "$BUNDLE" "$id"
	rt start "$id"
	wait_status "$id" stopped
	# Written by the warden as the init exited: the engine has not deleted anything yet.
	# Up to 30 s: under gVisor on a loaded machine the exit reaches the warden late.
	local n=300
	until grep -q '"kind":"exit"' "$LOG" || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ "$(kinds "$LOG")" = "open create start exit" ]
	audit show "$LOG" --kind exit --format json | jq -e '.details == {"code": 7}'
	rt delete "$id"
	[ "$(kinds "$LOG")" = "open create start exit warden changes delete close" ]
	audit verify "$LOG" --key "$KEY"
	# run --detach: safehouse is not the init's parent once it has returned either.
	rm -f "$LOG" "$LOG.head"
	cmd 'sleep 0.2; exit 5'
	rt run --detach --bundle "$BUNDLE" "$id-d"
	wait_status "$id-d" stopped
	rt delete "$id-d"
	[ "$(kinds "$LOG")" = "open create start exit warden changes delete close" ]
	audit show "$LOG" --kind exit --format json | jq -e '.details == {"code": 5}'
	# Foreground run is the parent: it writes the exit itself, and only it.
	rm -f "$LOG" "$LOG.head"
	cmd 'exit 6'
	run rt run --bundle "$BUNDLE" "$id-f"
	[ "$status" -eq 6 ]
	[ "$(kinds "$LOG")" = "open create start exit warden changes delete close" ]
	audit show "$LOG" --kind exit --format json | jq -e '.details == {"code": 6}'
	audit show "$LOG" --kind warden --format json | jq -e '.details.report | has("exitRecorded") | not'
	audit verify "$LOG" --key "$KEY"
}

@test "engines: a warden killed before the exit leaves it to delete, which says the status is unknown, once" {
	local id="au-$$-k"
	config '.annotations["io.safehouse.policy"] = "default" | .annotations["io.safehouse.audit"] = "'"$LOG"'"'
	cmd 'sleep 60'
	rt create --bundle "$BUNDLE" "$id"
	rt start "$id"
	local warden
	warden="$(jq -r .wardenPid "$ROOT/$id/state.json")"
	[ "$warden" -gt 0 ]
	kill -KILL "$warden"
	rt kill "$id" KILL
	wait_status "$id" stopped
	rt delete "$id"
	[ "$(kinds "$LOG")" = "open create start kill warden exit changes delete close" ]
	audit show "$LOG" --kind exit --format json | jq -e '.details.error == "exit status unknown: the warden left no report"'
	audit verify "$LOG"
}

@test "agent stop-all: each stopped sandbox's log records the stop and who asked" {
	local pid
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" --id "au-$$-s" --summary none -- sleep 60 &
	pid=$!
	# Started, and the start on record (it is written just after the start itself).
	local n=100
	until grep -q '"kind":"start"' "$LOG" 2>/dev/null || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	"$RUNTIME" --root "$ROOT" agent stop-all
	wait "$pid" || true
	# The stop is recorded once every sandbox is signalled, so it may follow the exit
	# it caused; its details carry when it was signalled.
	[ "$(kinds "$LOG" | cut -d' ' -f1-3)" = "open create start" ]
	[ "$(kinds "$LOG" | cut -d' ' -f4- | tr ' ' '\n' | sort | paste -sd' ')" = "changes close delete exit limit stop" ]
	audit show "$LOG" --kind stop --format json | jq -e '.details.reason == "emergency stop" and .details.status == "running" and .details.by.uid == 0 and (.details.by.pid | type == "number")'
	[[ "$(audit show "$LOG" --kind stop --format json | jq -r .details.signalled)" < "$(audit show "$LOG" --kind exit --format json | jq -r .time)" ]]
	audit show "$LOG" --kind limit --format json | jq -e '.details.limit == "stopped (emergency stop)"'
	# The stop took the log's lock before the signal: it is before the close, which is last.
	[ "$(kinds "$LOG" | awk '{print $NF}')" = close ]
	audit verify "$LOG" --key "$KEY"
}

@test "agent stop-all: sandboxes sharing one log each get their stop before their close" {
	local pids=() i
	for i in 1 2 3; do
		"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" --id "au-$$-m$i" --summary none -- sleep 60 &
		pids+=($!)
	done
	local n=200
	until [ "$(grep -c '"kind":"start"' "$LOG" 2>/dev/null)" = 3 ] || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	"$RUNTIME" --root "$ROOT" agent stop-all
	for i in "${pids[@]}"; do wait "$i" || true; done
	for i in 1 2 3; do
		[ "$(audit show "$LOG" --format json | jq -r "select(.id == \"au-$$-m$i\") | .kind" | paste -sd' ' | awk '{print $NF}')" = close ]
		audit show "$LOG" --format json | jq -e -s "map(select(.id == \"au-$$-m$i\" and .kind == \"stop\")) | length == 1"
	done
	run --separate-stderr audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 0 ]
	[[ "$output" == *": intact, closed, "*" records, MACs verified, head verified" ]]
}

@test "agent spec --hooks: runc running the spec writes create, start and delete through safehouse hook" {
	command -v runc >/dev/null || skip "runc is not installed"
	"$RUNTIME" agent spec --hooks --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" -- sh -c 'echo in-runc' >"$BUNDLE/config.json"
	jq -e '.hooks.createRuntime[0].args == ["safehouse-audit", "hook", "createRuntime"] and .annotations["io.safehouse.audit.hooks"] == "true"' "$BUNDLE/config.json"
	run runc --root "$REF_ROOT" run --bundle "$BUNDLE" "au-runc-$$"
	[ "$status" -eq 0 ]
	[ "$output" = "in-runc" ]
	[ "$(kinds "$LOG")" = "open create start delete close" ]
	audit show "$LOG" --kind create --format json | jq -e '.details.via == "hook createRuntime" and .details.policy == "'"$TEST_TMP/p.yaml"'" and .id == "au-runc-'$$'"'
	audit verify "$LOG" --key "$KEY"
	# safehouse running the same spec does not write them twice; it adds the hook
	# runs, the exit, the warden's report and the change set.
	rm -f "$LOG" "$LOG.head"
	rt run --bundle "$BUNDLE" "au-sh-$$"
	[ "$(kinds "$LOG")" = "open create hook start hook exit warden changes delete hook close" ]
	audit verify "$LOG" --key "$KEY"
}

@test "audit seal: a log cut at a line boundary fails verify --key; the close and the head say where it ended" {
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" --id "au-$$-c" --summary none -- true
	[ "$(kinds "$LOG" | awk '{print $NF}')" = close ]
	jq -e '.count == 7 and (.last | length == 64) and (.mac | length == 64)' "$LOG.head"
	cp "$LOG" "$TEST_TMP/good"
	local n
	for n in 1 2 3 6; do
		head -n "-$n" "$TEST_TMP/good" >"$LOG"
		run audit verify "$LOG" --key "$KEY"
		[ "$status" -eq 1 ]
		[[ "$output" == *"cut: the head says 7 records, the log has $((7 - n))"* ]]
		# Nothing is appended to a cut log (the next head would hide the cut).
		run audit append "$LOG" --id other --kind create --key "$KEY"
		[ "$status" -eq 1 ]
		[[ "$output" == *"cut: its head says 7 records"* ]]
		[ "$(wc -l <"$LOG")" -eq $((7 - n)) ]
	done
	# Cut and the head rewritten to match, by someone without the key.
	head -n -2 "$TEST_TMP/good" >"$LOG"
	python3 - "$LOG" <<-'PY'
		import hashlib, sys, json
		lines = open(sys.argv[1]).read().splitlines()
		logid = json.loads(lines[0])["details"]["logId"]
		open(sys.argv[1] + ".head", "w").write('{"logId":"%s","count":%d,"last":"%s"}\n' % (logid, len(lines), hashlib.sha256(lines[-1].encode()).hexdigest()))
	PY
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 1 ]
	[[ "$output" == *".head: no mac, but a key was given"* ]]
	# Without the key the verdict says what it cannot prove.
	run --separate-stderr audit verify "$LOG"
	[ "$status" -eq 0 ]
	[[ "$output" == *": open, 5 records, intact so far (not closed: au-$$-c), head matches" ]]
	[[ "$stderr" == *"whoever can write the log can cut its end and rewrite the head"* ]]
	# The head removed: a log that keeps one without it cannot be told from a cut one.
	cp "$TEST_TMP/good" "$LOG"
	rm "$LOG.head"
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$LOG.head is missing"* ]]
}

@test "audit seal: a running sandbox's log is open and intact so far; records after its close are refused" {
	local id="au-$$-o"
	config '.annotations["io.safehouse.policy"] = "default" | .annotations["io.safehouse.audit"] = "'"$LOG"'" | .annotations["io.safehouse.audit.key"] = "'"$KEY"'"'
	cmd 'sleep 60'
	rt create --bundle "$BUNDLE" "$id"
	rt start "$id"
	run --separate-stderr audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 0 ]
	[ "$output" = "$LOG: open, 3 records, intact so far (not closed: $id), MACs verified, head verified" ]
	rt kill "$id" KILL
	wait_status "$id" stopped
	rt delete "$id"
	run --separate-stderr audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 0 ]
	[[ "$output" == "$LOG: intact, closed, "*" records, MACs verified, head verified" ]]
	cp "$LOG" "$TEST_TMP/closed"
	cp "$LOG.head" "$TEST_TMP/closed.head"
	# A late writer of the closed sandbox is refused, and the log is unchanged.
	run audit append "$LOG" --id "$id" --kind egress --details '{"late":true}' --key "$KEY"
	[ "$status" -eq 1 ]
	[[ "$output" == *"sandbox $id is closed (its close record is line "*"): a egress record after close is refused"* ]]
	cmp "$LOG" "$TEST_TMP/closed"
	# One forged with the key after the close (chain, MAC and head all made to match)
	# is still an error.
	python3 - "$LOG" "$KEY" "$id" <<-'PY'
		import hashlib, hmac, sys, json
		path, key, sid = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
		lines = open(path).read().splitlines()
		last = json.loads(lines[-1])
		body = '{"seq":%d,"time":"%s","id":"%s","kind":"exec","details":{},"prev":"%s"}' % (last["seq"] + 1, last["time"], sid, hashlib.sha256(lines[-1].encode()).hexdigest())
		lines.append(body[:-1] + ',"mac":"%s"}' % hmac.new(key, body.encode(), hashlib.sha256).hexdigest())
		open(path, "w").write("\n".join(lines) + "\n")
		logid = json.loads(lines[0])["details"]["logId"]
		head = '{"logId":"%s","count":%d,"last":"%s"}' % (logid, len(lines), hashlib.sha256(lines[-1].encode()).hexdigest())
		open(path + ".head", "w").write(head[:-1] + ',"mac":"%s"}\n' % hmac.new(key, head.encode(), hashlib.sha256).hexdigest())
	PY
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 1 ]
	[[ "$output" == *"a exec record of sandbox $id after its close record"* ]]
	# A new sandbox of the same id starts a new life in the same log.
	cp "$TEST_TMP/closed" "$LOG"
	cp "$TEST_TMP/closed.head" "$LOG.head"
	cmd 'true'
	rt run --bundle "$BUNDLE" "$id"
	audit verify "$LOG" --key "$KEY"
	[ "$(kinds "$LOG" | tr ' ' '\n' | grep -c '^close$')" -eq 2 ]
}

@test "audit seal: a log from before heads verifies with its tail unproven" {
	local logid=00112233445566778899aabbccddeeff
	python3 - "$LOG" <<-'PY'
		import hashlib, sys
		open_ = '{"seq":0,"time":"2026-01-01T00:00:00.000000000Z","id":"old","kind":"open","details":{"logId":"00112233445566778899aabbccddeeff","mac":false},"prev":"%s"}' % ("0" * 64)
		create = '{"seq":1,"time":"2026-01-01T00:00:01.000000000Z","id":"old","kind":"create","details":{},"prev":"%s"}' % hashlib.sha256(open_.encode()).hexdigest()
		open(sys.argv[1], "w").write(open_ + "\n" + create + "\n")
	PY
	run --separate-stderr audit verify "$LOG"
	[ "$status" -eq 0 ]
	[ "$output" = "$LOG: open, 2 records, intact so far (not closed: old), tail unproven" ]
	[[ "$stderr" == *"no head (a log from before heads were kept): records cut from its end at a line boundary would not show"* ]]
	audit append "$LOG" --id old --kind start
	[ ! -e "$LOG.head" ]
	audit verify "$LOG"
}

# Each way a log cannot be written: the sandbox does not start, one line names the
# log, nothing is left behind; the same with auditMode: best-effort starts and says so.
fail_closed() {
	local log="$1" why="$2" id="au-$$-f$RANDOM"
	cat >"$TEST_TMP/strict.yaml" <<-YAML
		audit: $log
		limits:
		  timeout: 30s
	YAML
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/strict.yaml" --rootfs "$ROOTFS" --id "$id" --summary none -- echo ran
	[ "$status" -ne 0 ]
	[ "$output" = "" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"audit log $log: $why"*"the sandbox does not start without its audit log"* ]]
	[ ! -e "$ROOT/$id" ]
	[ ! -e "/run/safehouse-agent/$id" ]
	# An engine's create of an annotated bundle is refused the same way.
	config '.annotations = {"io.safehouse.policy": "default", "io.safehouse.audit": "'"$log"'"}'
	cmd 'true'
	run rt create --bundle "$BUNDLE" "$id-e"
	[ "$status" -ne 0 ]
	[[ "$output" == *"audit log $log: $why"* ]]
	[ ! -e "$ROOT/$id-e" ]
	# best-effort: it runs, and says it runs without audit.
	printf 'auditMode: best-effort\n' >>"$TEST_TMP/strict.yaml"
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/strict.yaml" --rootfs "$ROOTFS" --id "$id-b" --summary none -- echo ran
	[ "$status" -eq 0 ]
	[ "$output" = ran ]
	[[ "$stderr" == *"audit log $log: $why"*"the sandbox runs without audit (audit: best-effort)"* ]]
}

@test "audit fail-closed: a read-only log directory" {
	mkdir "$TEST_TMP/ro"
	mount -t tmpfs -o ro,size=1m tmpfs "$TEST_TMP/ro"
	fail_closed "$TEST_TMP/ro/logs/a.audit.jsonl" "cannot make its directory"
	fail_closed "$TEST_TMP/ro/a.audit.jsonl" "cannot create it: read-only file system"
	# A log already there on a filesystem that became read-only.
	umount "$TEST_TMP/ro"
	mount -t tmpfs -o size=1m tmpfs "$TEST_TMP/ro"
	"$RUNTIME" audit append "$TEST_TMP/ro/a.audit.jsonl" --id a --kind create
	mount -o remount,ro "$TEST_TMP/ro"
	fail_closed "$TEST_TMP/ro/a.audit.jsonl" "cannot open it for writing: read-only file system"
}

@test "audit fail-closed: the log is a directory" {
	mkdir -p "$TEST_TMP/d.audit.jsonl"
	fail_closed "$TEST_TMP/d.audit.jsonl" "cannot open it for writing: is a directory"
}

@test "audit fail-closed: a full filesystem" {
	mkdir "$TEST_TMP/full"
	mount -t tmpfs -o size=256k tmpfs "$TEST_TMP/full"
	dd if=/dev/zero of="$TEST_TMP/full/fill" bs=4k 2>/dev/null || true
	fail_closed "$TEST_TMP/full/a.audit.jsonl" "no space left on its filesystem"
}

@test "audit fail-closed: a torn or cut log" {
	printf '{"seq":0,"time":"x","id":"a","kind":"open"' >"$TEST_TMP/torn.audit.jsonl"
	fail_closed "$TEST_TMP/torn.audit.jsonl" "its last line is torn"
	"$RUNTIME" audit append "$LOG" --id a --kind create
	"$RUNTIME" audit append "$LOG" --id a --kind start
	head -n 2 "$LOG" >"$LOG.cut" && mv "$LOG.cut" "$LOG"
	fail_closed "$LOG" "cut: its head ($LOG.head) says 3 records, the log ends at 2"
	rm "$LOG"
	fail_closed "$LOG" "missing, but its head ($LOG.head) says it had records"
}

@test "audit fail-closed: a keyed log whose head was forged, or a key that cannot be read" {
	"$RUNTIME" audit append "$LOG" --id a --kind create --key "$KEY"
	cp "$LOG.head" "$TEST_TMP/head"
	# Re-MACed with another key: only safehouse-audit can tell, and it is asked first.
	head -c 32 /dev/urandom >"$TEST_TMP/other-key"
	"$RUNTIME" audit append "$TEST_TMP/other.jsonl" --id a --kind create --key "$TEST_TMP/other-key"
	python3 - "$LOG.head" "$TEST_TMP/other-key" <<-'PY'
		import hashlib, hmac, sys, json
		path, key = sys.argv[1], open(sys.argv[2], "rb").read()
		h = json.loads(open(path).read())
		body = '{"logId":"%s","count":%d,"last":"%s"}' % (h["logId"], h["count"], h["last"])
		open(path, "w").write(body[:-1] + ',"mac":"%s"}\n' % hmac.new(key, body.encode(), hashlib.sha256).hexdigest())
	PY
	cat >>"$TEST_TMP/p.yaml" <<-YAML
		auditMode: required
	YAML
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" --id "au-$$-mac" --summary none -- echo ran
	[ "$status" -ne 0 ]
	[ "$output" = "" ]
	[[ "$stderr" == *"audit log $LOG: $LOG.head: mac does not match"*"the sandbox does not start without its audit log"* ]]
	[ ! -e "$ROOT/au-$$-mac" ]
	# The head put back: it starts.
	cp "$TEST_TMP/head" "$LOG.head"
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" --id "au-$$-mac" --summary none -- echo ran
	[ "$status" -eq 0 ]
	[ "$output" = ran ]
	# A key file that is not there (a new log: no head to check).
	rm -f "$LOG" "$LOG.head"
	sed -i "s|^auditKey: .*|auditKey: $TEST_TMP/no-such-key|" "$TEST_TMP/p.yaml"
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" --id "au-$$-mac2" --summary none -- echo ran
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"audit log $LOG: its key $TEST_TMP/no-such-key: no such file or directory; the sandbox does not start"* ]]
	[ ! -e "$LOG" ]
}

@test "audit: best-effort is a policy word; a bad auditMode is named" {
	printf 'audit: best-effort\n' >"$TEST_TMP/be.yaml"
	"$RUNTIME" agent spec --policy "$TEST_TMP/be.yaml" --rootfs "$ROOTFS" -- true >"$TEST_TMP/be.json"
	jq -e '.annotations["io.safehouse.audit.mode"] == "best-effort" and (.annotations | has("io.safehouse.audit") | not)' "$TEST_TMP/be.json"
	printf 'audit: %s\nauditMode: sometimes\n' "$LOG" >"$TEST_TMP/bad.yaml"
	run "$RUNTIME" agent spec --policy "$TEST_TMP/bad.yaml" --rootfs "$ROOTFS" -- true
	[ "$status" -ne 0 ]
	[[ "$output" == *"auditMode: not one of required, best-effort"* ]]
	[[ "$output" != *"sometimes"* ]]
	printf 'audit: logs/a.jsonl\n' >"$TEST_TMP/bad.yaml"
	run "$RUNTIME" agent spec --policy "$TEST_TMP/bad.yaml" --rootfs "$ROOTFS" -- true
	[ "$status" -ne 0 ]
	[[ "$output" == *"audit: neither best-effort nor an absolute path"* ]]
}
