#!/usr/bin/env bats
# The audit trail (issue 7): every record kind from real runs (agent run, an engine's
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
	[ "$(kinds "$LOG")" = "open create start exit delete changes" ]
	audit show "$LOG" --kind exit --format json | jq -e '.details.code == 3 and .id == "au-'$$'-1" and .seq == 3'
	audit show "$LOG" --kind changes --format json | jq -e '.details.entries | map(select(.path == "/etc/note" and .kind == "created")) | length == 1'
	audit show "$LOG" --kind create --format json | jq -e '.details.by.uid == 0 and (.time | test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{9}Z$")) and (.mac | length == 64)'
	audit show "$LOG" --kind open --format json | jq -e '(.details.logId | length == 32) and .details.mac == true'
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 0 ]
	[[ "$output" == *"intact, 6 records, MACs verified"* ]]
	run audit show "$LOG" --kind start
	[ "$status" -eq 0 ]
	[[ "$output" == *" #2 au-$$-1 start "*"pid="* ]]
}

@test "agent run: a timeout is a limit record; the default log is /var/log/safehouse/ID.audit.jsonl" {
	local id="au-$$-2"
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --rootfs "$ROOTFS" --id "$id" --timeout 1s -- sleep 30
	[ "$status" -eq 124 ]
	[ "$(kinds "$id")" = "open create start exit delete limit changes" ]
	audit show "$id" --kind limit --format json | jq -e '.details.limit | startswith("timeout")'
	audit show "$id" --kind exit --format json | jq -e '.details.signal == 9 and .details.code == 137'
	run audit verify "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == "/var/log/safehouse/$id.audit.jsonl: intact, 7 records" ]]
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
	[[ "$output" == *"line 6: torn"* ]]
	run audit append "$LOG" --id x --kind y
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 6 is torn"* ]]
	cmp "$LOG" <(head -c -7 "$TEST_TMP/good")
	# Re-chained without the key: line 4 edited, every prev after it recomputed.
	python3 - "$TEST_TMP/good" "$LOG" <<-'PY'
		import hashlib, sys, re
		lines = open(sys.argv[1]).read().splitlines()
		lines[3] = lines[3].replace('"code":0', '"code":1')
		for i in range(4, len(lines)):
		    h = hashlib.sha256(lines[i - 1].encode()).hexdigest()
		    lines[i] = re.sub(r'"prev":"[0-9a-f]{64}"', '"prev":"%s"' % h, lines[i])
		open(sys.argv[2], "w").write("\n".join(lines) + "\n")
	PY
	run audit verify "$LOG"
	[ "$status" -eq 0 ]
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line 4: mac does not match"* ]]
	cp "$TEST_TMP/good" "$LOG"
	run audit verify "$LOG" --key "$KEY"
	[ "$status" -eq 0 ]
}

@test "audit: concurrent writers neither interleave nor lose a record" {
	local w pids=()
	for w in 1 2 3 4; do
		(for i in $(seq 25); do audit append "$LOG" --id "w$w" --kind k --details "{\"i\":$i,\"pad\":\"$(head -c 3000 /dev/zero | tr '\0' x)\"}" || exit 1; done) &
		pids+=($!)
	done
	for w in "${pids[@]}"; do wait "$w"; done
	run audit verify "$LOG"
	[ "$status" -eq 0 ]
	[[ "$output" == *"intact, 101 records"* ]]
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
	[ "$(kinds "$LOG")" = "open create start pause resume exec kill exit warden changes delete" ]
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
	rm -f "$LOG"
	printf 'policies = %s\n' "$TEST_TMP" >>"$ROOT/safehouse.conf"
	config '.annotations = {"io.safehouse.policy": "'"$TEST_TMP/p.yaml"'"}'
	cmd 'true'
	rt run --bundle "$BUNDLE" "$id-p"
	[ "$(kinds "$LOG")" = "open create start exit warden changes delete" ]
	audit verify "$LOG" --key "$KEY"
	config '.annotations["io.safehouse.audit"] = "'"$LOG"'"'
	# A failing hook is on the record, and fails the create.
	rm -f "$LOG"
	config '.hooks.createRuntime = [{"path": "/bin/false"}]'
	run rt create --bundle "$BUNDLE" "$id-h"
	[ "$status" -eq 1 ]
	[ "$(kinds "$LOG")" = "open hook" ]
	audit show "$LOG" --kind hook --format json | jq -e '.details.stage == "createRuntime" and (.details.error | contains("exit status 1"))'
	config 'del(.hooks)'
	# No annotation: no log, here or in the default place.
	rm -f "$LOG"
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
	local n=50
	until grep -q '"kind":"exit"' "$LOG" || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ "$(kinds "$LOG")" = "open create start exit" ]
	audit show "$LOG" --kind exit --format json | jq -e '.details == {"code": 7}'
	rt delete "$id"
	[ "$(kinds "$LOG")" = "open create start exit warden changes delete" ]
	audit verify "$LOG" --key "$KEY"
	# run --detach: safehouse is not the init's parent once it has returned either.
	rm -f "$LOG"
	cmd 'sleep 0.2; exit 5'
	rt run --detach --bundle "$BUNDLE" "$id-d"
	wait_status "$id-d" stopped
	rt delete "$id-d"
	[ "$(kinds "$LOG")" = "open create start exit warden changes delete" ]
	audit show "$LOG" --kind exit --format json | jq -e '.details == {"code": 5}'
	# Foreground run is the parent: it writes the exit itself, and only it.
	rm -f "$LOG"
	cmd 'exit 6'
	run rt run --bundle "$BUNDLE" "$id-f"
	[ "$status" -eq 6 ]
	[ "$(kinds "$LOG")" = "open create start exit warden changes delete" ]
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
	[ "$(kinds "$LOG")" = "open create start kill warden exit changes delete" ]
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
	[ "$(kinds "$LOG" | cut -d' ' -f4- | tr ' ' '\n' | sort | paste -sd' ')" = "changes delete exit limit stop" ]
	audit show "$LOG" --kind stop --format json | jq -e '.details.reason == "emergency stop" and .details.status == "running" and .details.by.uid == 0 and (.details.by.pid | type == "number")'
	[[ "$(audit show "$LOG" --kind stop --format json | jq -r .details.signalled)" < "$(audit show "$LOG" --kind exit --format json | jq -r .time)" ]]
	audit show "$LOG" --kind limit --format json | jq -e '.details.limit == "stopped (emergency stop)"'
	audit verify "$LOG" --key "$KEY"
}

@test "agent spec --hooks: runc running the spec writes create, start and delete through safehouse hook" {
	command -v runc >/dev/null || skip "runc is not installed"
	"$RUNTIME" agent spec --hooks --policy "$TEST_TMP/p.yaml" --rootfs "$ROOTFS" -- sh -c 'echo in-runc' >"$BUNDLE/config.json"
	jq -e '.hooks.createRuntime[0].args == ["safehouse-audit", "hook", "createRuntime"] and .annotations["io.safehouse.audit.hooks"] == "true"' "$BUNDLE/config.json"
	run runc --root "$REF_ROOT" run --bundle "$BUNDLE" "au-runc-$$"
	[ "$status" -eq 0 ]
	[ "$output" = "in-runc" ]
	[ "$(kinds "$LOG")" = "open create start delete" ]
	audit show "$LOG" --kind create --format json | jq -e '.details.via == "hook createRuntime" and .details.policy == "'"$TEST_TMP/p.yaml"'" and .id == "au-runc-'$$'"'
	audit verify "$LOG" --key "$KEY"
	# safehouse running the same spec does not write them twice; it adds the hook
	# runs, the exit, the warden's report and the change set.
	rm -f "$LOG"
	rt run --bundle "$BUNDLE" "au-sh-$$"
	[ "$(kinds "$LOG")" = "open create hook start hook exit warden changes delete hook" ]
	audit verify "$LOG" --key "$KEY"
}
