#!/usr/bin/env bats
# containerd drives $RUNTIME through its runc shim (io.containerd.runc.v2), as
# `ctr run --runc-binary $RUNTIME` does: the shim calls create/start/state/kill/delete
# with --log FILE --log-format json and reads the error's msg from that log.
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

@test "containerd: ctr run --runc-binary RUNTIME prints the output" {
	run c run --rm --runc-binary "$RUNTIME" "$IMAGE" "$(new_id)" echo hi
	[ "$status" = 0 ]
	[ "$output" = hi ]
}

@test "containerd: the exit code propagates through ctr" {
	run c run --rm --runc-binary "$RUNTIME" "$IMAGE" "$(new_id)" sh -c 'exit 7'
	[ "$status" = 7 ]
}

@test "containerd: the process sees the image's environment and its own namespaces" {
	run c run --rm --runc-binary "$RUNTIME" "$IMAGE" "$(new_id)" sh -c 'echo $PATH; id -u; hostname; readlink /proc/self/ns/pid'
	[ "$status" = 0 ]
	[ "${lines[0]}" = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/pid)" ]
}

@test "containerd: detached task: running, kill, stopped, removed" {
	local id
	id="$(new_id)"
	c run -d --runc-binary "$RUNTIME" "$IMAGE" "$id" sleep 100 >/dev/null
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

@test "containerd: a failing create shows the runtime's error message" {
	run c run --rm --runc-binary "$RUNTIME" "$IMAGE" "$(new_id)" /no/such/binary
	[ "$status" != 0 ]
	# The shim reads the last error msg from `--log-format json` and passes it on.
	[[ "$output" == *"/no/such/binary"* ]]
	[ -z "$(c tasks ls -q)" ]
}
