#!/usr/bin/env bats
# Faults: the runtime killed with SIGKILL at each step of run (create, start, wait,
# delete), by the debug build's SAFEHOUSE_FAULT=PHASE (PhaseTrace.swift), for a sandbox
# (ephemeral root, warden) and a plain container; then `delete --force` must leave no
# process, mount, cgroup, state, ephemeral root or warden.

load helpers

DEBUG_RUNTIME="$REPO/.build/debug/safehouse"

PHASES=("run" "bundle loaded" "making the ephemeral root" "forking" "cgroups applied" "warden started"
	"state saved" "init ready" "started" "exited" "destroying" "cgroups removed" "ephemeral root removed")

# leftovers ID MARK: print what is left of container ID (whose process carries MARK).
leftovers() {
	local id="$1" mark="$2"
	[ -e "$ROOT/$id" ] && echo "state $ROOT/$id"
	grep -F "$id" /proc/self/mountinfo | awk '{ print "mount " $5 }'
	find /sys/fs/cgroup -maxdepth 8 -type d -name "$id" 2>/dev/null | sed 's/^/cgroup /'
	ls /run/safehouse-ephemeral 2>/dev/null | grep "^$id-" | sed 's/^/ephemeral /'
	pgrep -f "$mark" | sed 's/^/process /'
	pgrep -f "safehouse-warden --state-dir $ROOT/$id " | sed 's/^/warden /'
	true
}

@test "faults: the runtime killed at each step of a sandbox's run; delete --force leaves nothing" {
	[ -x "$DEBUG_RUNTIME" ] || skip "no debug build at $DEBUG_RUNTIME (swift build makes it; .ci/run does)"
	local phase id n=0 mark out status left
	for phase in "${PHASES[@]}"; do
		n=$((n + 1))
		id="fault-$$-$n"
		mark="faultmark$$x$n"
		config '.annotations["io.safehouse.policy"] = "default" | .root.readonly = false | .process.args = ["sh", "-c", ("sleep 1; : " + $m)]' --arg m "$mark"
		status=0
		SAFEHOUSE_FAULT="$phase" "$DEBUG_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 || status=$?
		[ "$status" -eq 137 ] || { echo "# phase '$phase': exit $status, not killed"; false; }
		"$RUNTIME" --root "$ROOT" delete --force "$id"
		# An init whose runtime died before it was placed anywhere exits on its own
		# (its channel closed): give it a moment.
		for _ in 1 2 3 4 5 6 7 8 9 10; do left="$(leftovers "$id" "$mark")"; [ -z "$left" ] && break; sleep 0.3; done
		[ -z "$left" ] || { echo "# phase '$phase' left: $left"; false; }
	done
}
