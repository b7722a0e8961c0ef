#!/usr/bin/env bats
# checkpoint and restore (runc's verbs): a busybox shell that counts in a shell
# variable, writing each value to /dev/shm/n, is checkpointed and restored; its count
# going on from where it was (instead of starting again at 1) proves that its memory
# came back. Natively with CRIU, on SAFEHOUSE_BACKEND=gvisor with runsc.
#
# The native tests need a CRIU that works on this kernel (`criu check`); where it does
# not (Debian 12's CRIU 3.17 on Linux 6.13 and later: "vdso: Unexpected rt vDSO area
# bounds"), they are skipped saying so, and the refusal itself is tested instead.

load helpers

setup() {
	common_setup
	IMG="$TEST_TMP/img"
	# Counts in memory; a restarted process would count from 1 again.
	config '.process.terminal = false | .process.args = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /dev/shm/n; sleep 0.1; done"]'
}

teardown() { common_teardown; }

backend() { echo "${SAFEHOUSE_BACKEND:-native}"; }

# needs_checkpointing: skips where this backend cannot checkpoint on this machine.
needs_checkpointing() {
	if [ "$(backend)" = native ] && ! criu check >/dev/null 2>&1; then
		skip "criu check fails on this kernel ($(uname -r)): $(criu check 2>&1 | grep -m1 Error || echo 'criu missing')"
	fi
}

# count ID: the container's count now.
count() { read_number rt exec "$1" cat /dev/shm/n </dev/null; }

# counted_past ID N: waits (5 s at most) until the container has counted past N.
counted_past() {
	local i n
	for i in $(seq 50); do
		n="$(count "$1" 2>/dev/null || echo 0)"
		[ "${n:-0}" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "container $1 did not count past $2 (at ${n:-nothing})" >&2
	return 1
}

start_counter() {
	rt run -d -b "$BUNDLE" "$1" </dev/null
	counted_past "$1" 15
}

@test "checkpoint: the container is saved and gone; restore under a new id counts on from its memory" {
	needs_checkpointing
	local a b before after
	a="$(new_id)"
	b="$(new_id)"
	start_counter "$a"
	before="$(count "$a")"
	run rt checkpoint --image-path "$IMG" "$a"
	[ "$status" = 0 ]
	# runc removes a checkpointed container (without --leave-running).
	run rt state "$a"
	[ "$status" != 0 ]
	[[ "$output" == *"does not exist"* ]]
	# Not under `run`: a detached container keeps the runtime's stdout (a pipe there).
	rt restore -d -b "$BUNDLE" --image-path "$IMG" "$b" </dev/null >"$TEST_TMP/restore.out" 2>&1
	[ "$(rt state "$b" | jq -r .status)" = running ]
	# From where it was: a fresh start would be at 1..5 by now.
	after="$(count "$b")"
	[ "$after" -ge "$before" ]
	counted_past "$b" "$after"
	rt delete --force "$b"
	[ -z "$(root_entries)" ]
}

@test "checkpoint: one checkpoint restores into two containers that count on independently" {
	needs_checkpointing
	local a b c saved
	a="$(new_id)"
	b="$(new_id)"
	c="$(new_id)"
	start_counter "$a"
	saved="$(count "$a")"
	rt checkpoint --image-path "$IMG" "$a"
	rt restore -d -b "$BUNDLE" --image-path "$IMG" "$b" </dev/null
	rt restore -d -b "$BUNDLE" --image-path "$IMG" "$c" </dev/null
	[ "$(count "$b")" -ge "$saved" ]
	[ "$(count "$c")" -ge "$saved" ]
	# Two processes, not one: stopping one leaves the other counting.
	rt kill "$b" KILL
	counted_past "$c" "$(count "$c")"
	rt delete --force "$b"
	rt delete --force "$c"
}

@test "checkpoint --leave-running: the container keeps running and counting; the image restores too" {
	needs_checkpointing
	local a b
	a="$(new_id)"
	b="$(new_id)"
	start_counter "$a"
	rt checkpoint --leave-running --image-path "$IMG" "$a" >"$TEST_TMP/checkpoint.out" 2>&1
	[ "$(rt state "$a" | jq -r .status)" = running ]
	counted_past "$a" "$(count "$a")"
	rt restore -d -b "$BUNDLE" --image-path "$IMG" "$b" </dev/null
	[ "$(count "$b")" -ge 15 ]
	rt delete --force "$a"
	rt delete --force "$b"
}

@test "checkpoint: a paused container is checkpointed and stays paused with --leave-running" {
	needs_checkpointing
	local a
	a="$(new_id)"
	start_counter "$a"
	rt pause "$a"
	rt checkpoint --leave-running --image-path "$IMG" "$a" >"$TEST_TMP/checkpoint.out" 2>&1
	[ "$(rt state "$a" | jq -r .status)" = paused ]
	rt resume "$a"
	counted_past "$a" "$(count "$a")"
	rt delete --force "$a"
}

@test "checkpoint: a created or stopped container is refused in runc's words (differential)" {
	local a r
	a="$(new_id)"
	r="$(new_id)"
	rt create -b "$BUNDLE" "$a" </dev/null
	(cd "$BUNDLE" && ref create "$r" </dev/null)
	run rt checkpoint --image-path "$IMG" "$a"
	[ "$status" = 1 ]
	[[ "$output" == *"Container cannot be checkpointed in created state"* ]]
	run ref checkpoint --image-path "$TEST_TMP/refimg" "$r"
	[ "$status" != 0 ]
	[[ "$output" == *"Container cannot be checkpointed in created state"* ]]
	# Nothing was touched: it still starts.
	rt start "$a"
	[ "$(rt state "$a" | jq -r .status)" = running ]
	ref delete --force "$r"
	run rt checkpoint --image-path "$IMG" missing-ckpt
	[ "$status" = 1 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "restore: an existing id (runc's words, differential), a directory without a checkpoint and refused flags fail in one line, nothing made" {
	local a r
	a="$(new_id)"
	r="$(new_id)"
	rt run -d -b "$BUNDLE" "$a" </dev/null
	(cd "$BUNDLE" && ref run -d "$r" </dev/null >/dev/null 2>&1)
	mkdir -p "$IMG"
	run rt restore -d -b "$BUNDLE" --image-path "$IMG" "$a"
	[ "$status" = 1 ]
	[[ "$output" == *"container with given ID already exists"* ]]
	run ref restore -d -b "$BUNDLE" --image-path "$IMG" "$r"
	[ "$status" = 1 ]
	[[ "$output" == *"container with given ID already exists"* ]]
	ref delete --force "$r"
	run rt restore -d -b "$BUNDLE" --image-path "$TEST_TMP/nowhere" "$(new_id)"
	[ "$status" = 1 ]
	[[ "$output" == *"--image-path $TEST_TMP/nowhere"* ]]
	run rt restore -d -b "$BUNDLE" --no-pivot --image-path "$IMG" "$(new_id)"
	[ "$status" = 1 ]
	[[ "$output" == *"--no-pivot"* ]]
	[ "$(root_entries)" = "$a" ]
	rt delete --force "$a"
}

@test "checkpoint: where CRIU cannot run, native checkpoint and restore refuse with CRIU's reason and leave the container running" {
	[ "$(backend)" = native ] || skip "CRIU is the native backend's"
	criu check >/dev/null 2>&1 && skip "criu check passes on this host: the checkpoint tests above run instead"
	local a
	a="$(new_id)"
	start_counter "$a"
	run rt checkpoint --image-path "$IMG" "$a"
	[ "$status" = 1 ]
	[[ "$output" == *"criu check fails on this host"*"Error"* ]]
	[ "$(rt state "$a" | jq -r .status)" = running ]
	counted_past "$a" "$(count "$a")"
	mkdir -p "$IMG"
	run rt restore -d -b "$BUNDLE" --image-path "$IMG" "$(new_id)"
	[ "$status" = 1 ]
	[[ "$output" == *"criu check fails on this host"* ]]
	[ "$(root_entries)" = "$a" ]
	rt delete --force "$a"
}

@test "checkpoint: on gvisor, CRIU's options are refused by name" {
	[ "$(backend)" = gvisor ] || skip "runsc's checkpoint is the gvisor backend's"
	local a
	a="$(new_id)"
	start_counter "$a"
	run rt checkpoint --tcp-established --image-path "$IMG" "$a"
	[ "$status" = 1 ]
	[[ "$output" == *"--tcp-established: not supported by the gvisor backend"* ]]
	[ "$(rt state "$a" | jq -r .status)" = running ]
	rt delete --force "$a"
}

@test "restore without --detach waits for the restored container and exits with its status; --pid-file names its init" {
	needs_checkpointing
	local a b
	a="$(new_id)"
	b="$(new_id)"
	# Counts to 40, then exits 7: only the restored copy can get there from the saved count.
	config '.process.args = ["sh", "-c", "i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo $i > /dev/shm/n; sleep 0.1; done; exit 7"]'
	start_counter "$a"
	rt checkpoint --image-path "$IMG" "$a"
	( sleep 1; cat "$TEST_TMP/restored.pid" >"$TEST_TMP/pid-seen" 2>/dev/null; rt state "$b" >"$TEST_TMP/state-seen" 2>/dev/null ) &
	local watcher=$!
	run rt restore -b "$BUNDLE" --pid-file "$TEST_TMP/restored.pid" --image-path "$IMG" "$b" </dev/null
	# Its own job only: a bare wait would also wait for bats' BATS_TEST_TIMEOUT watchdog.
	wait "$watcher"
	[ "$status" = 7 ]
	[ "$(jq -r .pid "$TEST_TMP/state-seen")" = "$(cat "$TEST_TMP/pid-seen")" ]
	[ "$(jq -r .status "$TEST_TMP/state-seen")" = running ]
	# The foreground restore removed the container once it ended, as run does.
	run rt state "$b"
	[ "$status" != 0 ]
}

@test "checkpoint and restore of an agent sandbox natively: refused in one line (CRIU's reason first); it keeps running" {
	[ "$(backend)" = native ] || skip "the gvisor backend checkpoints agent sandboxes (agent-snapshot.bats)"
	local id
	id="sbx-ckpt-$$"
	"$RUNTIME" --root "$ROOT" agent run --rootfs "$ROOTFS" --id "$id" \
		-- sh -c 'echo kept > /tmp/f; sleep 30' </dev/null >"$TEST_TMP/agent.out" 2>&1 &
	local agent=$! i reason
	for i in $(seq 100); do [ "$(rt state "$id" 2>/dev/null | jq -r .status)" = running ] && break; sleep 0.1; done
	# Where CRIU cannot run at all its own reason comes first; else the sandbox refusal.
	if criu check >/dev/null 2>&1; then reason="an agent sandbox is checkpointed and restored on the gvisor backend only"; else reason="criu check fails on this host"; fi
	run rt checkpoint --image-path "$IMG" "$id"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"$reason"* ]]
	[ ! -e "$IMG/checkpoint.img" ]
	[ "$(rt state "$id" | jq -r .status)" = running ]
	# A bundle that names a policy is a sandbox too: restore refuses it before making anything.
	config '.annotations["io.safehouse.policy"] = "default"'
	mkdir -p "$IMG"
	run rt restore -d -b "$BUNDLE" --image-path "$IMG" "sbx-ckpt-new-$$"
	[ "$status" = 1 ]
	[[ "$output" == *"$reason"* ]]
	run rt state "sbx-ckpt-new-$$"
	[ "$status" != 0 ]
	rt kill "$id" KILL
	# Its own job only: a bare wait would also wait for bats' BATS_TEST_TIMEOUT watchdog.
	wait "$agent" || true
}
