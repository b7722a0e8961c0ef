#!/usr/bin/env bats
# The container's cgroups over its life: create refuses a frozen cgroup instead of
# waiting for an init that can never answer; kill --all and delete --force reach the
# cgroups a container made under its own (nested runtimes, systemd, test harnesses),
# thawing any that are frozen, and remove them deepest first.

load helpers

# Sub-cgroups and frozen parents this file makes are named for this run ("itsub-*-$$",
# "safehouse-it-$$-*"), so common_teardown finds them; frozen ones are thawed first or
# their processes could not die.
teardown() {
	local d
	find /sys/fs/cgroup -mindepth 2 -maxdepth 7 -type d \( -name "itsub-*-$$" -o -name "safehouse-it-$$-*" \) 2>/dev/null |
		sort | while read -r d; do
		[ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -f "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
		true
	done
	# What a runtime made under this test's frozen parents (runc 1.1 makes "ctr"
	# there), and the sub-cgroups: deepest first.
	{
		find /sys/fs/cgroup -mindepth 2 -maxdepth 7 -type d -name "itsub-*-$$" 2>/dev/null
		find /sys/fs/cgroup -mindepth 3 -maxdepth 7 -type d -path "*/safehouse-it-$$-*/*" 2>/dev/null
	} | sort -r | while read -r d; do
		xargs -r kill -9 <"$d/cgroup.procs" 2>/dev/null || true
		rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; } || true
	done
	common_teardown
}

# alive PID: running (a zombie waiting for its parent to reap it counts as gone).
alive() {
	[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"
}

# The container's own cgroup directory in every hierarchy of this host (v1 and the
# unified one), from /proc/PID/cgroup.
container_cgroups() {
	local pid="$1" line hier path mnt
	while IFS= read -r line; do
		hier="$(echo "$line" | cut -d: -f2)"
		path="$(echo "$line" | cut -d: -f3-)"
		case "$hier" in
		"") mnt=/sys/fs/cgroup/unified ;;
		name=systemd) mnt=/sys/fs/cgroup/systemd ;;
		*) mnt="/sys/fs/cgroup/${hier%%,*}" ;;
		esac
		[ -d "$mnt$path" ] && echo "$mnt$path"
	done <"/proc/$pid/cgroup" | sort -u
}

# Pids of the container's processes other than its init (host view).
children_of() {
	local init="$1" d
	d="$(container_cgroups "$init" | grep /pids/ | head -1)"
	grep -vx "$init" "$d/cgroup.procs" || true
}

# Start a container with two sleeping children; move the first into a sub-cgroup
# itsub-1-$$/itsub-2-$$ and the second into itsub-1-$$, in every hierarchy; freeze
# the deeper one (v1 freezer and cgroup2 cgroup.freeze). Sets ID, INIT, KIDS, CGROUPS.
start_with_subcgroups() {
	config '.process.args = ["sh", "-c", "sleep 1000 & sleep 1000 & wait"]'
	[ "${1:-}" = hostpid ] && config '.linux.namespaces |= map(select(.type != "pid"))'
	ID="$(new_id)"
	rt run --detach --bundle "$BUNDLE" "$ID" </dev/null >/dev/null
	INIT="$(rt state "$ID" | jq .pid)"
	wait_for 5 sh -c "[ \$(grep -vxc $INIT $(container_cgroups "$INIT" | grep /pids/)/cgroup.procs) -ge 2 ]"
	KIDS="$(children_of "$INIT" | sort -n | tr '\n' ' ')"
	CGROUPS="$(container_cgroups "$INIT")"
	local kid1 kid2 d
	kid1="$(echo $KIDS | cut -d' ' -f1)"
	kid2="$(echo $KIDS | cut -d' ' -f2)"
	[ -n "$kid1" ] && [ -n "$kid2" ]
	for d in $CGROUPS; do
		mkdir -p "$d/itsub-1-$$/itsub-2-$$"
		# A new v1 cpuset has no cpus or mems and takes no process until given them.
		if [ -f "$d/cpuset.cpus" ]; then
			local sub f
			for sub in "$d/itsub-1-$$" "$d/itsub-1-$$/itsub-2-$$"; do
				for f in cpuset.cpus cpuset.mems; do cat "$(dirname "$sub")/$f" >"$sub/$f"; done
			done
		fi
		echo "$kid2" >"$d/itsub-1-$$/cgroup.procs"
		echo "$kid1" >"$d/itsub-1-$$/itsub-2-$$/cgroup.procs"
	done
	local frozen=0
	for d in $CGROUPS; do
		if [ -f "$d/freezer.state" ]; then
			echo FROZEN >"$d/itsub-1-$$/itsub-2-$$/freezer.state"
			frozen=1
		fi
		if [ -f "$d/itsub-1-$$/itsub-2-$$/cgroup.freeze" ]; then
			echo 1 >"$d/itsub-1-$$/itsub-2-$$/cgroup.freeze"
			frozen=1
		fi
	done
	[ "$frozen" = 1 ]
	grep -q '^State:.*(stopped)\|^State:.*T' "/proc/$kid1/status" || grep -q FROZEN "$(echo "$CGROUPS" | grep /freezer/)/itsub-1-$$/itsub-2-$$/freezer.state"
}

@test "delete --force: sub-cgroups made in the container, one frozen, go depth-first with the container" {
	if runtime_is_runc11; then skip "runc 1.1 leaves a process frozen in a sub-cgroup (\"container init still running\")"; fi
	start_with_subcgroups
	run rt delete --force "$ID"
	echo "# $output" >&2
	[ "$status" = 0 ]
	run rt state "$ID"
	[ "$status" != 0 ]
	local d pid
	for d in $CGROUPS; do
		[ ! -d "$d" ] || { echo "# left behind: $d" >&2; false; }
	done
	for pid in $INIT $KIDS; do
		alive "$pid" && { echo "# still alive: $pid: $(cat /proc/$pid/status | head -3 | tr '\n' ' ')" >&2; false; }
	done
	[ -z "$(root_entries)" ]
}

@test "kill --all KILL: reaches the processes in the container's sub-cgroups, frozen ones too" {
	if runtime_is_runc11; then skip "runc 1.1 leaves the SIGKILL pending in a frozen sub-cgroup"; fi
	# No pid namespace of its own, so killing the init does not take the rest along:
	# only the cgroup tree says which processes are the container's.
	# The deeper sub-cgroup is frozen: its process keeps a pending SIGKILL until
	# thawed, so kill --all KILL thaws what it kills.
	start_with_subcgroups hostpid
	local d
	rt kill --all "$ID" KILL
	local pid
	for pid in $KIDS; do
		wait_for 5 eval "! alive $pid" || { echo "# still alive after kill --all: $pid" >&2; false; }
	done
	rt delete --force "$ID"
	for d in $CGROUPS; do [ ! -d "$d" ]; done
}

# RUNTIME run, killed after 30 s, its output in files: an init frozen in its cgroup
# would hold a pipe open for ever. Sets status and stderr.
run_bounded() {
	status=0
	timeout -k 5 30 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)" \
		</dev/null >"$TEST_TMP/bounded.out" 2>"$TEST_TMP/bounded.err" || status=$?
	stderr="$(cat "$TEST_TMP/bounded.err")"
}

# create in a cgroup under a frozen one: the init would freeze as it joins.
frozen_parent_run() {
	local kind="$1" parent="$2"
	mkdir -p "$parent"
	if [ "$kind" = v1 ]; then echo FROZEN >"$parent/freezer.state"; else echo 1 >"$parent/cgroup.freeze"; fi
	config '.linux.cgroupsPath = $p | .process.args = ["true"]' --arg p "/$(basename "$parent")/ctr"
	local t0=$SECONDS
	run_bounded
	echo "# status $status after $((SECONDS - t0)) s: $stderr" >&2
	[ "$status" != 0 ] && [ "$status" != 124 ]
	[ $((SECONDS - t0)) -lt 20 ]
	[[ "$stderr" == *"container's cgroup unexpectedly frozen"* ]]
	[[ "$stderr" == *"$parent"* ]]
	[ -z "$(root_entries)" ]
	# Nothing made under the frozen parent, in any hierarchy.
	[ -z "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path "*/safehouse-it-$$-frozen/ctr" 2>/dev/null)" ]
}

@test "create: a cgroupsPath under a frozen v1 freezer cgroup is refused at once, not waited on" {
	# runc 1.1 checks only the container's own cgroup and hangs here.
	if runtime_is_runc11; then skip "runc 1.1 hangs under a frozen parent"; fi
	[ -d /sys/fs/cgroup/freezer ] || skip "no v1 freezer hierarchy"
	frozen_parent_run v1 "/sys/fs/cgroup/freezer/safehouse-it-$$-frozen"
}

@test "create: a cgroupsPath under a frozen cgroup2 cgroup (cgroup.freeze) is refused at once" {
	if runtime_is_runc11; then skip "runc 1.1 on a hybrid host does not look at cgroup.freeze and hangs"; fi
	local u=/sys/fs/cgroup/unified
	grep -q " $u cgroup2 \| - cgroup2 " /proc/self/mountinfo || skip "no cgroup2 mount"
	[ -d "$u" ] || u=/sys/fs/cgroup
	[ -f "$u/cgroup.controllers" ] || skip "no cgroup2 at $u"
	frozen_parent_run v2 "$u/safehouse-it-$$-frozen"
}

@test "create: the container's own cgroup frozen is refused with runc's words (differential)" {
	[ -d /sys/fs/cgroup/freezer ] || skip "no v1 freezer hierarchy"
	local d="/sys/fs/cgroup/freezer/safehouse-it-$$-own"
	mkdir -p "$d"
	echo FROZEN >"$d/freezer.state"
	config '.linux.cgroupsPath = $p' --arg p "/safehouse-it-$$-own"
	config '.process.args = ["true"]'
	run --separate-stderr ref run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" != 0 ]
	[[ "$stderr" == *"container's cgroup unexpectedly frozen"* ]]
	local t0=$SECONDS
	run_bounded
	echo "# status $status after $((SECONDS - t0)) s: $stderr" >&2
	[ "$status" != 0 ] && [ "$status" != 124 ]
	[[ "$stderr" == *"container's cgroup unexpectedly frozen"* ]]
	[ $((SECONDS - t0)) -lt 20 ]
	[ -z "$(root_entries)" ]
	# The frozen cgroup the test made is still there (it was not the runtime's).
	[ -d "$d" ]
}
