#!/usr/bin/env bats
# Backend selection: --backend, the io.safehouse.backend annotation and the
# root's safehouse.conf pick native or gvisor at create; the choice is in the state,
# and every later command follows it without being told. Bad names fail in one line
# naming the field and leave nothing. Needs safehouse (runc has no backends) and runsc.

load helpers

setup() {
	common_setup
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse"
	command -v runsc >/dev/null || { echo "# runsc is not installed (hack/setup installs it)" >&2; return 1; }
	mkdir -p "$ROOT"
	# This file sets its own defaults per test.
	rm -f "$ROOT/safehouse.conf"
	cmd 'dmesg 2>/dev/null | grep -c "Starting gVisor" || true'
}

teardown() {
	# The network namespace and veth pair of the netstack test, if it stopped half way.
	ip link del "shjh$$" 2>/dev/null || true
	ip netns del "shj$$" 2>/dev/null || true
	common_teardown
}

# backend_of ID: the backend recorded in the container's state.
backend_of() { jq -r .backend "$ROOT/$1/state.json"; }

@test "backend: native by default; --backend gvisor runs in runsc and later commands follow the record" {
	local id
	id="$(new_id)"
	run rt run --bundle "$BUNDLE" "$id"
	[ "$status" = 0 ]
	[ "$output" = 0 ] # native: the host's kernel log (if readable) never says gVisor
	id="$(new_id)"
	run rt --backend gvisor run --bundle "$BUNDLE" "$id"
	[ "$status" = 0 ]
	[ "$output" = 1 ]
	[ -z "$(root_entries)" ] # a foreground run leaves nothing
	# create with the flag; state, start, kill, delete without it.
	cmd 'trap "exit 3" TERM; while :; do sleep 0.1; done'
	id="$(new_id)"
	rt --backend gvisor create --bundle "$BUNDLE" "$id"
	[ "$(backend_of "$id")" = gvisor ]
	[ "$(rt state "$id" | jq -r .status)" = created ]
	pid="$(rt state "$id" | jq -r .pid)"
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -d' ' -f1)" = runsc-sandbox ]
	rt start "$id"
	wait_status "$id" running
	[ "$(rt exec "$id" sh -c 'dmesg | grep -c "Starting gVisor"')" = 1 ]
	rt pause "$id"
	[ "$(rt state "$id" | jq -r .status)" = paused ]
	rt resume "$id"
	rt kill "$id" TERM
	wait_status "$id" stopped
	rt delete "$id"
	[ -z "$(root_entries)" ]
	[ -z "$(ls -A "$ROOT/@runsc" 2>/dev/null)" ]
}

@test "backend: the annotation chooses per container; the flag outranks it" {
	config '.annotations["io.safehouse.backend"] = "gvisor"'
	local id
	id="$(new_id)"
	run rt run --bundle "$BUNDLE" "$id"
	[ "$status" = 0 ]
	[ "$output" = 1 ]
	id="$(new_id)"
	run rt --backend native run --bundle "$BUNDLE" "$id"
	[ "$status" = 0 ]
	[ "$output" = 0 ]
}

@test "backend: the root's safehouse.conf sets the default; the annotation outranks it" {
	printf '# test default\nbackend = gvisor\n' >"$ROOT/safehouse.conf"
	local id
	id="$(new_id)"
	run rt run --bundle "$BUNDLE" "$id"
	[ "$output" = 1 ]
	config '.annotations["io.safehouse.backend"] = "native"'
	id="$(new_id)"
	run rt run --bundle "$BUNDLE" "$id"
	[ "$output" = 0 ]
	run rt --backend gvisor features
	[ "$(echo "$output" | jq -r '.annotations["io.safehouse.backend"]')" = gvisor ]
	run rt features
	[ "$(echo "$output" | jq -r '.annotations["io.safehouse.backend"]')" = gvisor ] # the root's default
}

@test "backend: unknown names in the flag, the annotation and the config file fail in one line naming the field; nothing is made" {
	local id
	id="$(new_id)"
	run --separate-stderr rt --backend kata run --bundle "$BUNDLE" "$id"
	[ "$status" = 1 ]
	[ "$stderr" = 'safehouse: --backend: unknown backend "kata" (use native or gvisor)' ]
	config '.annotations["io.safehouse.backend"] = "GVISOR"'
	run --separate-stderr rt create --bundle "$BUNDLE" "$id"
	[ "$status" = 1 ]
	[ "$stderr" = 'safehouse: annotations["io.safehouse.backend"]: unknown backend "GVISOR" (use native or gvisor)' ]
	config 'del(.annotations["io.safehouse.backend"])'
	printf 'backend = gvisor\nrunsc-overlay = disk\n' >"$ROOT/safehouse.conf"
	run --separate-stderr rt create --bundle "$BUNDLE" "$id"
	[ "$status" = 1 ]
	[ "$stderr" = "safehouse: $ROOT/safehouse.conf:2: runsc-overlay: \"disk\" is not none or {root|all}:{memory|/dir}" ]
	printf 'backend = qemu\n' >"$ROOT/safehouse.conf"
	run --separate-stderr rt --log "$TEST_TMP/log.json" --log-format json create --bundle "$BUNDLE" "$id"
	[ "$status" = 1 ]
	[ "$(tail -1 "$TEST_TMP/log.json" | jq -r .msg)" = "$ROOT/safehouse.conf:1: backend: unknown backend \"qemu\" (use native or gvisor)" ]
	[ -z "$(root_entries)" ]
	[ ! -e "$ROOT/@runsc" ]
}

@test "backend: gvisor refuses what runsc cannot do, in one line, leaving nothing" {
	local id
	id="$(new_id)"
	run --separate-stderr rt --backend gvisor create --preserve-fds 1 --bundle "$BUNDLE" "$id" 3</dev/null
	[ "$status" = 1 ]
	[[ "$stderr" == *"--preserve-fds: not supported by the gvisor backend"* ]]
	[ -z "$(root_entries)" ]
}

@test "backend: update of a gvisor container changes its sandbox's cgroup limits (runsc has no update)" {
	cmd 'sleep 30'
	local id
	id="$(new_id)"
	rt --backend gvisor run -d --bundle "$BUNDLE" "$id"
	rt update --memory 300000000 --pids-limit 500 "$id"
	local mem pids
	mem="$(jq -r '.cgroupPaths[] | select(contains("/memory/"))' "$ROOT/$id/state.json")"
	pids="$(jq -r '.cgroupPaths[] | select(contains("/pids/"))' "$ROOT/$id/state.json")"
	[ "$(cat "$mem/memory.limit_in_bytes")" = 299999232 ] # page-rounded, as the kernel keeps it
	[ "$(cat "$pids/pids.max")" = 500 ]
	# The sandbox lives on under its new limits.
	[ "$(rt exec "$id" echo alive)" = alive ]
	rt delete --force "$id"
	[ -z "$(root_entries)" ]
}

@test "backend: a gvisor container joining a network namespace gets its interfaces in gVisor's netstack (run, run --detach, create and start)" {
	# A namespace of the test's own, as Podman or a CRI pod makes one: a veth end
	# with an address and a route. On Linux 6.x this runsc refuses to copy it into
	# its netstack unless safehouse hides /proc/sys/net from `runsc start` (and starts
	# what `runsc run` would: README, the gVisor backend).
	local ns="shj$$" id
	ip netns add "$ns"
	ip link add "shjh$$" type veth peer name "shjc$$"
	ip link set "shjc$$" netns "$ns"
	ip -n "$ns" addr add 192.0.2.77/24 dev "shjc$$"
	ip -n "$ns" link set "shjc$$" up
	ip -n "$ns" link set lo up
	config '.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network", "path": $p}])' --arg p "/run/netns/$ns"
	cmd 'ip addr | grep -o "inet 192.0.2.77/24"'
	id="$(new_id)"
	run rt --backend gvisor run --bundle "$BUNDLE" --pid-file "$TEST_TMP/run.pid" "$id"
	echo "$output"
	[ "$status" = 0 ]
	[ "$output" = "inet 192.0.2.77/24" ]
	[ -s "$TEST_TMP/run.pid" ]
	cmd 'ip addr | grep -o "inet 192.0.2.77/24" >/dev/null && sleep 30'
	# (runsc moves the addresses it copies out of the namespace: given back each time)
	ip -n "$ns" addr replace 192.0.2.77/24 dev "shjc$$"
	id="$(new_id)"
	rt --backend gvisor run --detach --bundle "$BUNDLE" "$id"
	sleep 1
	[ "$(rt state "$id" | jq -r .status)" = running ]
	rt delete --force "$id"
	ip -n "$ns" addr replace 192.0.2.77/24 dev "shjc$$"
	id="$(new_id)"
	rt --backend gvisor create --bundle "$BUNDLE" "$id"
	rt start "$id"
	sleep 1
	# Still running: its `ip addr | grep` found the address inside.
	[ "$(rt state "$id" | jq -r .status)" = running ]
	rt delete --force "$id"
	[ -z "$(root_entries)" ]
	ip link del "shjh$$" 2>/dev/null || true
	ip netns del "$ns"
}

@test "backend: kill reaches a foreground gvisor sandbox while it runs (run does not hold the container's lock while it waits)" {
	local id pid
	id="$(new_id)"
	"$RUNTIME" --root "$ROOT" --backend gvisor agent run --rootfs "$ROOTFS" --id "$id" --summary none -- sleep 60 >/dev/null 2>&1 &
	pid=$!
	wait_for 30 sh -c "'$RUNTIME' --root '$ROOT' state '$id' 2>/dev/null | jq -e '.status == \"running\"' >/dev/null"
	# Not the sandbox's 60 s: the kill is answered at once.
	run timeout 15 "$RUNTIME" --root "$ROOT" kill "$id" KILL
	[ "$status" -eq 0 ]
	wait "$pid" || true
	wait_for 10 test ! -e "$ROOT/$id"
}
