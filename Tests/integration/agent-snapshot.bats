#!/usr/bin/env bats
# agent checkpoint and agent restore: an agent sandbox saved to a snapshot directory
# (memory, its ephemeral root's upper layer, spec, root and time left) and restored
# from it into new sandboxes, each with its own warden and audit log (docs/checkpoint.md).
#
# A busybox shell counts in a shell variable, writing each value to /dev/shm/n (memory
# inside gVisor: saved with it); a restored copy counting on from where it was, instead
# of from 1, proves its memory came back. /etc/marker, written before the checkpoint,
# lives in the upper layer on the host: its presence in a restored copy proves the upper
# layer came back.
#
# An egress sandbox's copies reach a small fake internet the test makes (world_up): a
# network namespace joined to the host by a veth pair, an HTTP server on a
# documentation address (198.51.100.2, public as far as the address policy knows), and
# the hosts mapping the proxy resolves names through. No traffic leaves the machine.
#
# The snapshot works on the gvisor backend (SAFEHOUSE_BACKEND=gvisor, the gvisor stage);
# natively it needs CRIU, which fails `criu check` on this kernel: the native test is
# the refusal, with CRIU's own reason, the sandbox running on.

load helpers

setup() {
	common_setup
	SNAP="$TEST_TMP/snap"
}

teardown() {
	world_down
	common_teardown
}

# world_up: the fake internet (www.test and other.test at 198.51.100.2, serving
# hello.txt), for an allowlist to be tested against.
world_up() {
	WORLD="shsnap$$" WORLD_HOST="shsnaph$$"
	ip netns add "$WORLD"
	ip link add "$WORLD_HOST" type veth peer name eth0 netns "$WORLD"
	ip addr add 198.51.100.1/24 dev "$WORLD_HOST"
	ip link set "$WORLD_HOST" up
	ip -n "$WORLD" addr add 198.51.100.2/24 dev eth0
	ip -n "$WORLD" link set eth0 up
	ip -n "$WORLD" link set lo up
	mkdir -p "$TEST_TMP/www"
	echo "hello from the world" >"$TEST_TMP/www/hello.txt"
	ip netns exec "$WORLD" python3 -m http.server 80 --bind 198.51.100.2 --directory "$TEST_TMP/www" >/dev/null 2>&1 &
	echo $! >"$TEST_TMP/http.pid"
	local i
	for i in $(seq 100); do
		curl -s -o /dev/null http://198.51.100.2/hello.txt && break
		sleep 0.1
	done
	curl -s -o /dev/null http://198.51.100.2/hello.txt
	echo '198.51.100.2 www.test other.test' >"$TEST_TMP/hosts"
	export SAFEHOUSE_EGRESS_HOSTS="$TEST_TMP/hosts"
}

world_down() {
	[ -n "${WORLD:-}" ] || return 0
	[ -f "$TEST_TMP/http.pid" ] && kill "$(cat "$TEST_TMP/http.pid")" 2>/dev/null
	ip link del "$WORLD_HOST" 2>/dev/null || true
	ip netns del "$WORLD" 2>/dev/null || true
}

# fetch ID HOST: busybox wget of http://HOST/hello.txt inside sandbox ID, through the
# proxy its environment names (`timeout`, not wget's -T, which segfaults in this busybox).
fetch() { rt exec "$1" timeout 10 wget -q -O- "http://$2/hello.txt" </dev/null; }

backend() { echo "${SAFEHOUSE_BACKEND:-native}"; }

needs_gvisor() {
	[ "$(backend)" = gvisor ] && return 0
	if ! criu check >/dev/null 2>&1; then
		skip "a gvisor test (SAFEHOUSE_BACKEND=gvisor): natively a snapshot needs CRIU, and criu check fails on this kernel ($(uname -r))"
	fi
	skip "a gvisor test (SAFEHOUSE_BACKEND=gvisor): natively an agent sandbox's snapshot is refused (the native refusal test)"
}

# agent_counter ID [FLAGS...]: an agent run (of the busybox tree, or of --image in FLAGS)
# in the background that writes /etc/marker, then counts in memory; returns once it has
# counted past 15.
agent_counter() {
	local id="$1" root=(--rootfs "$ROOTFS")
	shift
	# An image instead of the busybox tree when the flags name one.
	[[ " $* " == *" --image "* ]] && root=()
	rt ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run "${root[@]}" --id "$id" --summary none "$@" \
		-- sh -c 'echo before > /etc/marker; i=0; while true; do i=$((i+1)); echo $i > /dev/shm/n; sleep 0.1; done' \
		</dev/null >"$TEST_TMP/$id.out" 2>&1 &
	echo $! >"$TEST_TMP/$id.job"
	counted_past "$id" 15
}

count() { read_number rt exec "$1" cat /dev/shm/n </dev/null; }

counted_past() {
	local i n
	for i in $(seq 100); do
		n="$(count "$1" 2>/dev/null || echo 0)"
		[ "${n:-0}" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "sandbox $1 did not count past $2 (at ${n:-nothing})" >&2
	return 1
}

# restored ID: agent restore --detach of $SNAP as ID (its stdio a file: the
# sandbox keeps it).
restored() {
	rt agent restore "$SNAP" --id "$1" --detach "${@:2}" </dev/null >"$TEST_TMP/$1.out" 2>"$TEST_TMP/$1.err"
}

# gone ID: nothing of the sandbox is left (state, generated bundle, ephemeral root).
gone() {
	! rt state "$1" >/dev/null 2>&1 &&
		[ ! -e "/run/safehouse-agent/$1" ] &&
		! ls /run/safehouse-ephemeral/ 2>/dev/null | grep -q "^$1-"
}

@test "agent checkpoint saves a sandbox and it is gone; agent restore counts on from its memory, with its files, its own warden and audit log; in the foreground too" {
	needs_gvisor
	local a b before after warden
	a="$(new_id)"
	b="$(new_id)"
	agent_counter "$a"
	before="$(count "$a")"
	run rt agent checkpoint "$a" --to "$SNAP"
	[ "$status" = 0 ]
	[[ "$output" == *"sandbox $a saved to $SNAP (gvisor, "*"s left); it is gone"* ]]
	gone "$a"
	wait "$(cat "$TEST_TMP/$a.job")" || true
	# All on disk, closed to others: the spec, what the root is, the memory, the upper layer.
	[ "$(stat -c %a "$SNAP")" = 700 ]
	[ "$(jq -r .backend "$SNAP/snapshot.json")" = gvisor ]
	[ "$(jq -r .rootfs "$SNAP/snapshot.json")" = "$ROOTFS" ]
	[ "$(jq -r .timeoutSeconds "$SNAP/snapshot.json")" -le 600 ]
	[ -s "$SNAP/checkpoint/checkpoint.img" ]
	[ "$(cat "$SNAP/checkpoint/upper/etc/marker")" = before ]
	jq -e '.annotations["io.safehouse.policy"] == "default"' "$SNAP/config.json"

	restored "$b"
	[ "$(rt state "$b" | jq -r .status)" = running ]
	after="$(count "$b")"
	[ "$after" -ge "$before" ]
	counted_past "$b" "$after"
	[ "$(rt exec "$b" cat /etc/marker </dev/null)" = before ]
	# Its own warden, alive, and its own audit log, which says where it came from.
	warden="$(jq -r .wardenPid "$ROOT/$b/state.json")"
	[ "$warden" -gt 0 ]
	kill -0 "$warden"
	grep -q '"kind":"restore"' "/var/log/safehouse/$b.audit.jsonl"
	grep -q "\"image\":\"$SNAP/checkpoint\"" "/var/log/safehouse/$b.audit.jsonl"
	rt delete --force "$b"
	gone "$b"
	# In the foreground (no --detach) it waits for the sandbox, exits with its status
	# and removes it.
	local c job code=0
	c="$(new_id)"
	rt agent restore "$SNAP" --id "$c" </dev/null >"$TEST_TMP/$c.out" 2>&1 &
	job=$!
	counted_past "$c" "$after"
	rt kill "$c" KILL
	wait "$job" || code=$?
	[ "$code" = 137 ]
	gone "$c"
	[ -z "$(root_entries)" ]
}

@test "agent restore: one snapshot forks into two sandboxes that run on independently, each with its own upper layer" {
	needs_gvisor
	local a b c before nb nc
	a="$(new_id)"
	b="$(new_id)"
	c="$(new_id)"
	agent_counter "$a"
	rt agent checkpoint "$a" --to "$SNAP"
	wait "$(cat "$TEST_TMP/$a.job")" || true
	restored "$b"
	restored "$c"
	nb="$(count "$b")"
	nc="$(count "$c")"
	# Both from the snapshot's memory, not from 1.
	[ "$nb" -gt 15 ]
	[ "$nc" -gt 15 ]
	# The file from before the checkpoint is in both roots; one written in b is not in c.
	[ "$(rt exec "$b" cat /etc/marker </dev/null)" = before ]
	[ "$(rt exec "$c" cat /etc/marker </dev/null)" = before ]
	rt exec "$b" sh -c 'echo only-b > /etc/fork' </dev/null
	[ "$(rt exec "$b" cat /etc/fork </dev/null)" = only-b ]
	run rt exec "$c" cat /etc/fork </dev/null
	[ "$status" != 0 ]
	# Two wardens, two audit logs, two upper layers.
	[ "$(jq -r .wardenPid "$ROOT/$b/state.json")" != "$(jq -r .wardenPid "$ROOT/$c/state.json")" ]
	grep -q '"kind":"restore"' "/var/log/safehouse/$b.audit.jsonl"
	grep -q '"kind":"restore"' "/var/log/safehouse/$c.audit.jsonl"
	# Independent: c counts on after b is gone.
	rt delete --force "$b"
	gone "$b"
	nc="$(count "$c")"
	counted_past "$c" "$nc"
	# The snapshot is untouched by its forks: a third copy has no /etc/fork either.
	[ ! -e "$SNAP/checkpoint/upper/etc/fork" ]
	rt delete --force "$c"
	gone "$c"
	[ -z "$(root_entries)" ]
}

@test "agent restore of an egress sandbox: each fork gets its own link and warden, and the allowlist holds in each" {
	needs_gvisor
	world_up
	local a x n
	a="$(new_id)"
	# No connection over the link before the checkpoint: one that is open, or in
	# TIME_WAIT, cannot be saved by runsc (the end of this test).
	agent_counter "$a" --allow www.test
	rt agent checkpoint "$a" --to "$SNAP"
	wait "$(cat "$TEST_TMP/$a.job")" || true
	gone "$a"
	local forks=("$(new_id)" "$(new_id)")
	for x in "${forks[@]}"; do restored "$x"; done
	for x in "${forks[@]}"; do
		# Its memory came back (it counts on), and so did its way out: the allowed host
		# is reached through its own warden's proxy, another is refused by it.
		n="$(count "$x")"
		[ "$n" -gt 15 ]
		[ "$(fetch "$x" www.test)" = "hello from the world" ]
		run fetch "$x" other.test
		echo "$output"
		[ "$status" != 0 ]
		[[ "$output" != *"hello from the world"* ]]
		jq -e -s 'map(select(.host == "www.test" and .decision == "allowed")) | length >= 1' "$ROOT/$x/egress.jsonl"
		jq -e -s 'map(select(.host == "other.test" and .decision == "denied")) | length >= 1' "$ROOT/$x/egress.jsonl"
		# Without the proxy variables the capture takes the connection (the default
		# route to the warden's link, its resolver): the allowed name is reached, a
		# literal address no rule names is not.
		[ "$(rt exec "$x" env -u http_proxy -u HTTP_PROXY timeout 10 wget -q -O- http://www.test/hello.txt </dev/null)" = "hello from the world" ]
		run rt exec "$x" env -u http_proxy -u HTTP_PROXY timeout 5 wget -q -O- http://198.51.100.2/hello.txt </dev/null
		[ "$status" != 0 ]
		[[ "$output" != *"hello from the world"* ]]
		jq -e -s 'map(select(.method == "TCP" and .host == "www.test" and .decision == "allowed")) | length >= 1' "$ROOT/$x/egress.jsonl"
	done
	# Two wardens, each with its own record of the restore.
	[ "$(jq -r .wardenPid "$ROOT/${forks[0]}/state.json")" != "$(jq -r .wardenPid "$ROOT/${forks[1]}/state.json")" ]
	for x in "${forks[@]}"; do grep -q '"kind":"restore"' "/var/log/safehouse/$x.audit.jsonl"; done
	# One copy gone, the other still reaches out.
	rt delete --force "${forks[0]}"
	gone "${forks[0]}"
	[ "$(fetch "${forks[1]}" www.test)" = "hello from the world" ]
	# A connection open over the link: runsc's save of it fails and the sentry ends
	# with it; the error says so in one line and nothing of the sandbox is left.
	rt exec "${forks[1]}" sh -c 'sleep 300 | nc 169.254.77.1 3128' </dev/null >/dev/null 2>&1 &
	sleep 1
	run rt agent checkpoint "${forks[1]}" --to "$TEST_TMP/snap2"
	echo "$output"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"checkpoint ${forks[1]}: runsc cannot save a TCP connection over the egress link"* ]]
	[[ "$output" == *"the sandbox ended with the failed checkpoint and is removed"* ]]
	gone "${forks[1]}"
	[ -z "$(root_entries)" ]
}

@test "agent checkpoint of a sandbox made from an image names its layers; agent restore mounts them again (one layer, and two after a commit)" {
	needs_gvisor
	local k a b n
	export SAFEHOUSE_IMAGE_STORE="$TEST_TMP/store"
	"$REPO/hack/mkimage" --rootfs "$ROOTFS" --name localhost/snapshot-bb:1 "$TEST_TMP/bb.tar" >/dev/null
	# A second layer: a kept change set committed onto the image.
	k="$(new_id)"
	rt ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --image "oci-archive:$TEST_TMP/bb.tar" --keep --id "$k" \
		--summary none -- sh -c 'echo committed > /etc/committed' </dev/null
	rt agent commit "$k" snapshot-bb:2 >/dev/null
	for n in 1 2; do
		a="$(new_id)"
		b="$(new_id)"
		rm -rf "$SNAP"
		if [ "$n" = 1 ]; then
			agent_counter "$a" --image "oci-archive:$TEST_TMP/bb.tar"
		else
			agent_counter "$a" --image snapshot-bb:2
		fi
		rt agent checkpoint "$a" --to "$SNAP"
		wait "$(cat "$TEST_TMP/$a.job")" || true
		# The image's layers by digest, bottom first, each in the store; no host path.
		[ "$(jq -r '.layers | length' "$SNAP/snapshot.json")" = "$n" ]
		[ "$(jq -r '.rootfs' "$SNAP/snapshot.json")" = null ]
		jq -r '.layers[]' "$SNAP/snapshot.json" | while read -r l; do [ -d "$SAFEHOUSE_IMAGE_STORE/layers/sha256/${l#sha256:}" ]; done
		restored "$b"
		[ "$(rt exec "$b" cat /etc/marker </dev/null)" = before ]
		if [ "$n" = 2 ]; then [ "$(rt exec "$b" cat /etc/committed </dev/null)" = committed ]; fi
		counted_past "$b" 15
		grep -q " /run/safehouse-agent/$b/rootfs " /proc/self/mountinfo
		rt delete --force "$b"
		gone "$b"
		# The image's mount went with the sandbox.
		! grep -q " /run/safehouse-agent/$b/rootfs " /proc/self/mountinfo
	done
	[ -z "$(root_entries)" ]
}

@test "agent restore --timeout: the restored sandbox's own warden ends it at its new deadline" {
	needs_gvisor
	local a b i
	a="$(new_id)"
	b="$(new_id)"
	agent_counter "$a"
	rt agent checkpoint "$a" --to "$SNAP"
	wait "$(cat "$TEST_TMP/$a.job")" || true
	restored "$b" --timeout 2s
	[ "$(rt state "$b" | jq -r .status)" = running ]
	for i in $(seq 100); do
		[ "$(rt state "$b" 2>/dev/null | jq -r .status)" = running ] || break
		sleep 0.1
	done
	[ "$(rt state "$b" 2>/dev/null | jq -r .status)" != running ]
	rt delete --force "$b"
	gone "$b"
	# The warden's report, recorded at the delete, says why it ended.
	grep '"kind":"warden"' "/var/log/safehouse/$b.audit.jsonl" | grep -q '"reason":"timeout"'
}

@test "agent checkpoint and restore refuse in one line and make nothing: an egress decider on gvisor, a non-empty --to, no room, a plain container, --leave-running, no snapshot, an id in use" {
	needs_gvisor
	local a p
	a="$(new_id)"
	# An egress decider: a restored copy's new warden could not take over the old
	# one's answers; it runs on.
	local policy="$TEST_TMP/decider.yaml"
	sed '/^network:/,$d' "$REPO/bundles/policies/default.yaml" >"$policy"
	printf 'network:\n  allow:\n    - example.com\n  decider: "exec:/bin/false"\n' >>"$policy"
	agent_counter "$a" --policy "$policy"
	run rt agent checkpoint "$a" --to "$SNAP"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"$a: an agent sandbox with an egress decider cannot be checkpointed or restored on gvisor"* ]]
	[ ! -e "$SNAP" ]
	[ "$(rt state "$a" | jq -r .status)" = running ]
	rt kill "$a" KILL
	wait "$(cat "$TEST_TMP/$a.job")" || true

	a="$(new_id)"
	agent_counter "$a"
	mkdir -p "$TEST_TMP/full"
	touch "$TEST_TMP/full/x"
	run rt agent checkpoint "$a" --to "$TEST_TMP/full"
	[ "$status" = 1 ]
	[[ "$output" == *"--to $TEST_TMP/full: exists and is not an empty directory"* ]]
	[ "$(ls "$TEST_TMP/full")" = x ]
	[ "$(rt state "$a" | jq -r .status)" = running ]

	# A destination without room for the upper layer: refused before the checkpoint.
	mkdir "$TEST_TMP/small"
	mount -t tmpfs -o size=1m tmpfs "$TEST_TMP/small"
	rt exec "$a" sh -c 'dd if=/dev/zero of=/etc/big bs=1M count=3 2>/dev/null && sync' </dev/null
	run rt agent checkpoint "$a" --to "$TEST_TMP/small/snap"
	[ "$status" = 1 ]
	[[ "$output" == *"bytes free, and the sandbox's upper layer takes"* ]]
	[ ! -e "$TEST_TMP/small/snap" ]
	[ "$(rt state "$a" | jq -r .status)" = running ]
	umount "$TEST_TMP/small"

	# A plain container is runc's checkpoint's.
	p="$(new_id)"
	rt run -d -b "$BUNDLE" "$p" </dev/null >/dev/null 2>&1 || true
	run rt agent checkpoint "$p" --to "$SNAP"
	[ "$status" = 1 ]
	[[ "$output" == *"$p: not an agent sandbox"* ]]
	[ ! -e "$SNAP" ]
	rt delete --force "$p"

	# runc's checkpoint verb takes a sandbox too, but not to leave it running.
	run rt checkpoint --leave-running --image-path "$TEST_TMP/img" "$a"
	[ "$status" = 1 ]
	[[ "$output" == *"--leave-running: not for an agent sandbox ($a is saved to be restored as new sandboxes, and goes)"* ]]
	[ ! -e "$TEST_TMP/img/checkpoint.img" ]
	[ "$(rt state "$a" | jq -r .status)" = running ]

	run rt agent restore "$TEST_TMP/full" --id "$(new_id)"
	[ "$status" = 1 ]
	[[ "$output" == *"$TEST_TMP/full: not a snapshot (no snapshot.json)"* ]]

	rt agent checkpoint "$a" --to "$SNAP"
	wait "$(cat "$TEST_TMP/$a.job")" || true
	restored "$a"
	run rt agent restore "$SNAP" --id "$a" --detach
	[ "$status" = 1 ]
	[[ "$output" == *"--id: container \"$a\" already exists"* ]]
	run rt agent restore "$SNAP" --id "bad/id"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	rt delete --force "$a"
	gone "$a"
	[ -z "$(root_entries)" ]
}

@test "agent checkpoint natively: refused with CRIU's first error line where criu check fails; the sandbox runs on" {
	[ "$(backend)" = native ] || skip "the native backend's refusal (gvisor snapshots: the tests above)"
	local a
	a="$(new_id)"
	agent_counter "$a"
	run rt agent checkpoint "$a" --to "$SNAP"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	if criu check >/dev/null 2>&1; then
		[[ "$output" == *"$a: an agent sandbox is checkpointed and restored on the gvisor backend only"* ]]
	else
		[[ "$output" == *"criu check fails on this host"*"$(criu check 2>&1 | grep -m1 -o 'Unexpected rt vDSO area bounds' || echo Error)"* ]]
	fi
	[ ! -e "$SNAP" ]
	[ "$(rt state "$a" | jq -r .status)" = running ]
	counted_past "$a" "$(count "$a")"
	rt kill "$a" KILL
	wait "$(cat "$TEST_TMP/$a.job")" || true
}
