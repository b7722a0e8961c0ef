#!/usr/bin/env bats
# Load: many sandboxes created, run and deleted by concurrent clients, then a leak
# check: no state, mount, cgroup, ephemeral root, bundle, warden or container process
# may remain, and every run must have succeeded.

load helpers

@test "load: 200 agent sandboxes by 16 concurrent clients leave nothing behind" {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (agent run is safehouse's)"
	local tag="ld$$"
	seq 1 200 | xargs -P 16 -I{} sh -c \
		'"$1" --root "$2" agent run --rootfs "$3" --summary none --id "$4-{}" -- sh -c "echo ok >/scratch/f; cat /scratch/f" >"$5/out-{}" 2>&1 || echo "run {} failed: $?" >>"$5/failures"' \
		sh "$RUNTIME" "$ROOT" "$ROOTFS" "$tag" "$TEST_TMP"
	[ ! -s "$TEST_TMP/failures" ] || { cat "$TEST_TMP/failures" | head >&2; false; }
	[ "$(cat "$TEST_TMP"/out-* | grep -cx ok)" -eq 200 ]
	# Nothing left: state, mounts, cgroups, ephemeral roots, bundles, wardens.
	[ -z "$(ls "$ROOT" 2>/dev/null)" ]
	! grep -q "$tag" /proc/self/mountinfo || false
	[ -z "$(find /sys/fs/cgroup -maxdepth 8 -type d -name "$tag-*" 2>/dev/null)" ]
	[ -z "$(ls /run/safehouse-ephemeral 2>/dev/null | grep "^$tag-")" ]
	[ -z "$(ls /run/safehouse-agent 2>/dev/null | grep "^$tag-")" ]
	! pgrep -f "safehouse-warden --state-dir $ROOT/" || false
}
