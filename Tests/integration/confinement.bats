#!/usr/bin/env bats
# Resource confinement: every limit in linux.resources is proved by what a process in
# the container can (not) do, not only by the file the runtime wrote. A memory hog is
# OOM-killed and `events` reports it, a fork loop stops at the pids limit, a busy loop
# under a CPU quota is throttled (and `events --stats` says so), `pause` freezes and
# `resume` thaws, `update` changes live limits, the device cgroup denies what the
# spec denies. Differential checks compare the cgroup files the runtime writes with the
# ones the reference runtime writes for the same spec.
#
# Host layout assumed: cgroup v1 controllers under /sys/fs/cgroup/<controller> (a
# hybrid host); a container's cgroup directories are read from its init's
# /proc/PID/cgroup, since without cgroupsPath they sit under the caller's cgroups.

load helpers

MiB=1048576

# cgdir PID CONTROLLER: the directory of PID's cgroup in CONTROLLER's v1 hierarchy.
cgdir() {
	local p
	p="$(awk -F: -v c="$2" '$2 == c { print $3 }' "/proc/$1/cgroup")"
	[ -n "$p" ] || {
		echo "# pid $1 has no $2 cgroup" >&2
		return 1
	}
	echo "/sys/fs/cgroup/$2$p"
}

# cgfile PID CONTROLLER FILE: the content of one cgroup file of PID's cgroup.
cgfile() {
	local d
	d="$(cgdir "$1" "$2")" || return 1
	cat "$d/$3"
}

# A host directory bind-mounted read-write at /shared in the container.
share_dir() {
	SHARED="$TEST_TMP/shared"
	mkdir -p "$SHARED"
	chmod 0777 "$SHARED"
	config '.mounts += [{"destination": "/shared", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' --arg s "$SHARED"
}

# start_rt ID: run the bundle detached under RUNTIME, print its init's pid.
start_rt() {
	rt run --detach --bundle "$BUNDLE" "$1" </dev/null >/dev/null
	rt state "$1" | jq -r .pid
}
start_ref() {
	ref run --detach --bundle "$BUNDLE" "$1" </dev/null >/dev/null
	ref state "$1" | jq -r .pid
}

@test "memory: a hog over the limit is OOM-killed, events reports oom, the cgroup counts it" {
	local id pid d evpid
	share_dir
	# 32 MiB of memory and no swap on top; the subshell holds a 200 MB string.
	config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	cmd 'while [ ! -e /shared/go ]; do sleep 0.1; done
(x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived)
echo "child=$?" >/shared/result
sleep 30'
	id="$(new_id)"
	pid="$(start_rt "$id")"
	d="$(cgdir "$pid" memory)"
	[ "$(cat "$d/memory.limit_in_bytes")" = $((32 * MiB)) ]
	[ "$(cat "$d/memory.memsw.limit_in_bytes")" = $((32 * MiB)) ]
	grep -qx 'oom_kill 0' "$d/memory.oom_control"

	rt events --interval 1s "$id" >"$TEST_TMP/events" 2>"$TEST_TMP/events.err" &
	evpid=$!
	sleep 1.2 # the stream is open (one stats line at least) before the hog starts
	touch "$SHARED/go"
	wait_for 30 test -s "$SHARED/result"
	# SIGKILL from the OOM killer, and nothing after the allocation ran.
	[ "$(cat "$SHARED/result")" = "child=137" ]
	grep -qx 'oom_kill 1' "$d/memory.oom_control"
	[ "$(cat "$d/memory.max_usage_in_bytes")" -le $((32 * MiB)) ]
	# The stream reports the kill while the container lives on.
	wait_for 5 grep -q '"type":"oom"' "$TEST_TMP/events" || {
		echo "# events output:" >&2
		cut -c1-200 "$TEST_TMP/events" | sed 's/^/#   /' >&2
		sed 's/^/#   stderr: /' "$TEST_TMP/events.err" >&2
		kill "$evpid"
		return 1
	}
	[ "$(grep '"type":"oom"' "$TEST_TMP/events" | head -1 | jq -r .id)" = "$id" ]
	# Byte for byte the line runc writes (its event struct: type, id, and data left
	# out when empty), which scripts match on.
	grep -qx "{\"type\":\"oom\",\"id\":\"$id\"}" "$TEST_TMP/events"
	grep '"type":"stats"' "$TEST_TMP/events" | head -1 | jq -e --arg id "$id" '.id == $id and .data.memory.usage.limit == 33554432' >/dev/null
	wait_status "$id" running
	# The stream ends once the container has stopped (runc 1.1's goes on polling).
	rt kill "$id" KILL
	if runtime_is_runc11; then
		kill "$evpid"
	fi
	wait_for 5 sh -c "! kill -0 $evpid 2>/dev/null" || {
		kill "$evpid"
		echo "# events --interval still running after the container stopped" >&2
		return 1
	}
	wait "$evpid" || true
	rt delete --force "$id"
}

@test "memory: an init over the limit dies with 137 (run exit status)" {
	config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	cmd 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived'
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 137 ]
	[[ "$output" != *survived* ]]
}

@test "pids: a fork loop stops at the pids limit (and runs unhindered without one)" {
	# The shell prints each background job it managed to start; busybox sh exits on
	# the first fork that fails. With a limit of 10: the shell plus 9 sleeps.
	cmd 'for i in $(seq 30); do sleep 3 & echo $i; done'
	config '.linux.resources.pids = {"limit": 10}'
	run --separate-stderr rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" != 0 ]
	[[ "$stderr" == *"can't fork"* ]]
	[ "${lines[-1]}" -le 9 ]
	[ "${lines[-1]}" -ge 5 ]

	config 'del(.linux.resources.pids)'
	cmd 'for i in $(seq 30); do sleep 0.5 & echo $i; done; wait'
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[ "${lines[-1]}" = 30 ]
}

@test "cpu: a busy loop under a 10% quota is throttled; events --stats reports it" {
	local id pid d stats usage periods throttled
	config '.linux.resources.cpu = {"quota": 10000, "period": 100000}'
	cmd 'while :; do :; done'
	id="$(new_id)"
	pid="$(start_rt "$id")"
	d="$(cgdir "$pid" cpu)"
	[ "$(cat "$d/cpu.cfs_quota_us")" = 10000 ]
	[ "$(cat "$d/cpu.cfs_period_us")" = 100000 ]
	sleep 1.5
	stats="$(rt events --stats "$id")"
	echo "$stats" | jq -e --arg id "$id" '.type == "stats" and .id == $id' >/dev/null
	periods="$(echo "$stats" | jq -r '.data.cpu.throttling.periods // 0')"
	throttled="$(echo "$stats" | jq -r '.data.cpu.throttling.throttledPeriods // 0')"
	usage="$(echo "$stats" | jq -r '.data.cpu.usage.total // 0')"
	echo "# periods=$periods throttled=$throttled usage=$usage" >&2
	[ "$periods" -ge 5 ]
	[ "$throttled" -ge 5 ]
	# ~1.5 s of wall time at 10% of one CPU: about 0.15 s of CPU, far below 1 s.
	[ "$usage" -gt 0 ]
	[ "$usage" -lt 600000000 ]
	# The numbers are the kernel's.
	[ "$(awk '$1 == "nr_throttled" { print $2 }' "$d/cpu.stat")" -ge "$throttled" ]
	rt delete --force "$id"
}

@test "pause freezes the container (no progress), resume thaws it" {
	local id pid a b c
	share_dir
	cmd 'while :; do echo x >>/shared/count; usleep 20000; done'
	id="$(new_id)"
	pid="$(start_rt "$id")"
	wait_for 5 test -s "$SHARED/count"
	rt pause "$id"
	wait_status "$id" paused
	[ "$(cgfile "$pid" freezer freezer.state)" = FROZEN ]
	a="$(wc -c <"$SHARED/count")"
	sleep 0.6
	b="$(wc -c <"$SHARED/count")"
	[ "$a" = "$b" ]
	rt resume "$id"
	wait_status "$id" running
	[ "$(cgfile "$pid" freezer freezer.state)" = THAWED ]
	sleep 0.6
	c="$(wc -c <"$SHARED/count")"
	echo "# paused: $a -> $b; resumed: $c" >&2
	[ "$c" -gt "$b" ]
	# Pausing a paused container or resuming a running one is an error.
	run rt resume "$id"
	[ "$status" != 0 ]
	rt delete --force "$id"
}

@test "kill KILL of a paused container ends it (thawed after the signal, as runc)" {
	local id
	config '.process.args = ["sleep", "300"]'
	id="$(new_id)"
	start_rt "$id" >/dev/null
	rt pause "$id"
	wait_status "$id" paused
	rt kill "$id" KILL
	wait_status "$id" stopped
	rt delete "$id"
	# Any other signal stays pending while frozen: the container stays paused.
	id="$(new_id)"
	start_rt "$id" >/dev/null
	rt pause "$id"
	rt kill "$id" TERM
	sleep 0.3
	[ "$(rt state "$id" | jq -r .status)" = paused ]
	rt delete --force "$id"
}

@test "update: a live pids limit takes effect; --resources - changes memory" {
	local id pid
	config '.linux.resources.pids = {"limit": 100}'
	config '.process.args = ["sleep", "300"]'
	id="$(new_id)"
	pid="$(start_rt "$id")"
	[ "$(cgfile "$pid" pids pids.max)" = 100 ]
	# Under 100, the exec'd fork loop runs to its end.
	run rt exec "$id" sh -c 'for i in $(seq 10); do sleep 2 & echo $i; done'
	[ "$status" = 0 ]
	[ "${lines[-1]}" = 10 ]

	rt update --pids-limit 5 "$id"
	[ "$(cgfile "$pid" pids pids.max)" = 5 ]
	rt state "$id" | jq -e '.status == "running"' >/dev/null
	# Now it stops early: sleep 300 + the exec'd shell + 3 sleeps (the ten sleeps of the
	# first exec may still count: then fewer, or the exec itself fails).
	run --separate-stderr rt exec "$id" sh -c 'for i in $(seq 10); do sleep 2 & echo $i; done'
	[ "$status" != 0 ]
	[ "${#lines[@]}" -le 3 ]

	echo '{"memory": {"limit": 67108864}}' | rt update --resources - "$id"
	[ "$(cgfile "$pid" memory memory.limit_in_bytes)" = $((64 * MiB)) ]
	[ "$(cgfile "$pid" pids pids.max)" = 5 ]
	rt update --memory $((48 * MiB)) --cpu-quota 20000 --cpu-period 100000 "$id"
	[ "$(cgfile "$pid" memory memory.limit_in_bytes)" = $((48 * MiB)) ]
	[ "$(cgfile "$pid" cpu cpu.cfs_quota_us)" = 20000 ]
	[ "$(cgfile "$pid" cpu cpu.cfs_period_us)" = 100000 ]
	rt events --stats "$id" | jq -e '.data.memory.usage.limit == 50331648 and .data.pids.limit == 5' >/dev/null
	# Unknown container: an error.
	run rt update --pids-limit 5 nonexistent-container
	[ "$status" != 0 ]
	# runc spells the shares flag --cpu-share.
	rt update --cpu-share 256 "$id"
	[ "$(cgfile "$pid" cpu cpu.shares)" = 256 ]
	rt delete --force "$id"
}

# A device the runtimes do not allow by default: loop-control (c 10:237); opening it
# needs no capability, so only the device cgroup decides.
devices_spec() {
	config '.linux.devices = [{"path": "/dev/lc", "type": "c", "major": 10, "minor": 237, "fileMode": 438, "uid": 0, "gid": 0}]'
	config '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 237, "access": "w"}]'
}

@test "devices: the device cgroup denies what the spec denies, allows what it allows" {
	[ -e /dev/loop-control ] || skip "no loop-control on this host"
	devices_spec
	run_both '.process.args = ["sh", "-c", "cat /dev/lc >/dev/null 2>&1 && echo read-ok || echo read-denied; (: >/dev/lc) 2>/dev/null && echo write-ok || echo write-denied; echo x >/dev/null && echo null-ok"]'
	expect_out "read-denied
write-ok
null-ok"
	# Without the allow rule, writing is denied too.
	run_both '.linux.resources.devices = [{"allow": false, "access": "rwm"}]'
	expect_out "read-denied
write-denied
null-ok"
}

# A spec with a device node but no device cgroup rules: runc's device cgroup is still a
# whitelist (its defaults only), so the node cannot be opened.
@test "devices: with no device rules in the spec, only runc's default devices open" {
	[ -e /dev/loop-control ] || skip "no loop-control on this host"
	config '.linux.devices = [{"path": "/dev/lc", "type": "c", "major": 10, "minor": 237, "fileMode": 438, "uid": 0, "gid": 0}] | del(.linux.resources.devices)'
	run_both '.process.args = ["sh", "-c", "(: >/dev/lc) 2>/dev/null && echo lc-ok || echo lc-denied; echo x >/dev/null && echo null-ok; head -c1 /dev/zero | wc -c"]'
	expect_out "lc-denied
null-ok
1"
}

# The pure cgroup v2 path (an eBPF device program on the container's cgroup): in a
# private mount namespace whose /sys/fs/cgroup is this host's cgroup2 hierarchy, both
# runtimes see a v2-only host. The mount namespace ends with the test's shell.
@test "devices: on a cgroup v2-only view the eBPF filter denies and allows as the reference" {
	[ -e /dev/loop-control ] || skip "no loop-control on this host"
	grep -q ' - cgroup2 ' /proc/self/mountinfo || skip "the kernel has no cgroup2 mount here"
	local rid tid script
	devices_spec
	config '.linux.cgroupsPath = $p' --arg p "/safehouse-it-$$-v2"
	config '.process.args = ["sh", "-c", "cat /dev/lc >/dev/null 2>&1 && echo read-ok || echo read-denied; (: >/dev/lc) 2>/dev/null && echo write-ok || echo write-denied; echo x >/dev/null && echo null-ok; grep ^0:: /proc/self/cgroup"]'
	rid="$(new_id)"
	tid="$(new_id)"
	script='mount --make-rprivate / && umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 99
		"$1" --root "$2" run --bundle "$3" "$4" </dev/null; s=$?
		[ -d /sys/fs/cgroup/safehouse-it-'$$'-v2 ] && echo cgroup-left
		exit $s'
	run unshare -m sh -c "$script" v2 "$REFERENCE" "$REF_ROOT" "$BUNDLE" "$rid"
	[ "$status" -eq 0 ] || { echo "# reference: $output"; false; }
	[ "$output" = "read-denied
write-ok
null-ok
0::/safehouse-it-$$-v2" ]
	local ref_output="$output"
	run unshare -m sh -c "$script" v2 "$RUNTIME" "$ROOT" "$BUNDLE" "$tid"
	echo "# safehouse: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "$ref_output" ]
	# No device rules at all: the default program still denies /dev/lc.
	config 'del(.linux.resources.devices)'
	run unshare -m sh -c "$script" v2 "$RUNTIME" "$ROOT" "$BUNDLE" "$(new_id)"
	echo "# safehouse, no rules: $output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "read-denied" ] && [ "${lines[1]}" = "write-denied" ] && [ "${lines[2]}" = "null-ok" ]
}

@test "devices: devices.list is the reference's for the same spec (differential)" {
	local rid tid rpid tpid
	devices_spec
	config '.process.args = ["sleep", "60"]'
	rid="$(new_id)"
	tid="$(new_id)"
	rpid="$(start_ref "$rid")"
	tpid="$(start_rt "$tid")"
	cgfile "$rpid" devices devices.list | sort >"$TEST_TMP/ref.list"
	cgfile "$tpid" devices devices.list | sort >"$TEST_TMP/rt.list"
	grep -qx 'c 10:237 w' "$TEST_TMP/ref.list"
	diff "$TEST_TMP/ref.list" "$TEST_TMP/rt.list" >&2
	ref delete --force "$rid"
	rt delete --force "$tid"
}

# Engines send the access letters as users typed them: Docker and Podman take
# --device /dev/x:/dev/x:mrw and --device-cgroup-rule 'c 10:237 wr' in any order, and
# CRI and scripts repeat letters. The v1 kernel parser reads only three characters, so
# "mmwr" written as given would lose the "r".
@test "devices: access letters in any order and repeated mean the same rule (differential)" {
	[ -e /dev/loop-control ] || skip "no loop-control on this host"
	local access rid tid rpid tpid
	for access in mwr rrw mmwr wmrw; do
		config '.linux.devices = [{"path": "/dev/lc", "type": "c", "major": 10, "minor": 237, "fileMode": 438, "uid": 0, "gid": 0}]'
		config '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 237, "access": $a}]' --arg a "$access"
		# Opened, not read: loop-control has no read(2) of its own.
		run_both '.process.args = ["sh", "-c", "(: </dev/lc) 2>/dev/null && echo read-ok || echo read-denied; (: >/dev/lc) 2>/dev/null && echo write-ok || echo write-denied"]'
		expect_ok
		expect_out "read-ok
write-ok"
		config '.process.args = ["sleep", "60"]'
		rid="$(new_id)"
		tid="$(new_id)"
		rpid="$(start_ref "$rid")"
		tpid="$(start_rt "$tid")"
		cgfile "$rpid" devices devices.list | sort >"$TEST_TMP/ref.list"
		cgfile "$tpid" devices devices.list | sort >"$TEST_TMP/rt.list"
		echo "# access $access: $(grep 10:237 "$TEST_TMP/rt.list")" >&2
		diff "$TEST_TMP/ref.list" "$TEST_TMP/rt.list" >&2
		ref delete --force "$rid"
		rt delete --force "$tid"
	done
}

@test "devices: an access letter other than r, w, m is refused naming the rule, before anything is made" {
	# runtime-spec config-linux.md: access is "a composition of r (read), w (write),
	# and m (mknod)". runc 1.1 passes "rwa" to the kernel unchecked.
	if runtime_is_runc11; then skip "runc 1.1 accepts any access letters"; fi
	local access
	for access in rwa RW "r w" ""; do
		config '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": $a}] | .process.args = ["true"]' --arg a "$access"
		run --separate-stderr rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
		echo "# access \"$access\": $status $stderr" >&2
		[ "$status" != 0 ]
		[[ "$stderr" == *"linux.resources.devices[1].access"* ]]
		[[ "$stderr" == *"invalid configuration"* ]]
		[ -z "$(root_entries)" ]
	done
}

@test "cgroup files: memory, cpu, cpuset, pids, blkio match the reference (differential)" {
	local rid tid rpid tpid f ctrl file rv tv bad=0
	config '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432, "swap": 100663296, "swappiness": 10}'
	config '.linux.resources.cpu = {"shares": 512, "quota": 25000, "period": 50000, "cpus": "0", "mems": "0"}'
	config '.linux.resources.pids = {"limit": 42}'
	# A read throttle on the host's first virtio disk, if there is one.
	local blk
	blk="$(cat /sys/block/vda/dev 2>/dev/null || true)"
	if [ -n "$blk" ]; then
		config '.linux.resources.blockIO = {"throttleReadBpsDevice": [{"major": $ma, "minor": $mi, "rate": 1048576}]}' \
			--argjson ma "${blk%:*}" --argjson mi "${blk#*:}"
	fi
	config '.process.args = ["sleep", "60"]'
	rid="$(new_id)"
	tid="$(new_id)"
	rpid="$(start_ref "$rid")"
	tpid="$(start_rt "$tid")"
	for f in memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes \
		memory/memory.memsw.limit_in_bytes memory/memory.swappiness memory/memory.oom_control \
		cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us \
		cpuset/cpuset.cpus cpuset/cpuset.mems pids/pids.max freezer/freezer.state \
		blkio/blkio.throttle.read_bps_device; do
		ctrl="${f%%/*}"
		file="${f#*/}"
		rv="$(cgfile "$rpid" "$ctrl" "$file" | sed '/^under_oom/d')"
		tv="$(cgfile "$tpid" "$ctrl" "$file" | sed '/^under_oom/d')"
		if [ "$rv" != "$tv" ]; then
			echo "# $f: reference '$rv', runtime '$tv'" >&2
			bad=1
		fi
	done
	# And not merely equal: the spec's values.
	[ "$(cgfile "$rpid" memory memory.limit_in_bytes)" = 67108864 ]
	[ "$(cgfile "$rpid" pids pids.max)" = 42 ]
	[ "$(cgfile "$rpid" cpu cpu.cfs_quota_us)" = 25000 ]
	[ -z "$blk" ] || [ "$(cgfile "$rpid" blkio blkio.throttle.read_bps_device)" = "$blk 1048576" ]
	ref delete --force "$rid"
	rt delete --force "$tid"
	[ "$bad" = 0 ]
}

@test "exec: the process joins every cgroup of the container, and its limits" {
	local id pid
	config '.linux.resources.pids = {"limit": 6}'
	config '.process.args = ["sleep", "60"]'
	id="$(new_id)"
	pid="$(start_rt "$id")"
	run rt exec "$id" cat /proc/self/cgroup
	[ "$status" = 0 ]
	[ "$output" = "$(cat /proc/$pid/cgroup)" ]
	run --separate-stderr rt exec "$id" sh -c 'for i in $(seq 10); do sleep 2 & echo $i; done'
	[ "$status" != 0 ]
	[ "${lines[-1]}" -le 4 ]
	rt delete --force "$id"
}

@test "events --stats: the same document shape as the reference (differential)" {
	local rid tid
	config '.linux.resources.memory = {"limit": 33554432}'
	config '.linux.resources.pids = {"limit": 20}'
	config '.process.args = ["sleep", "60"]'
	rid="$(new_id)"
	tid="$(new_id)"
	start_ref "$rid" >/dev/null
	start_rt "$tid" >/dev/null
	# Key paths (array indices dropped), and the limits. Not compared: memory.cache,
	# which runc omits when it is 0 (omitempty), the page sizes under hugetlb (on
	# this hybrid host hugetlb is on cgroup2 only, which runc 1.1's v1 manager ignores),
	# and blkio's per-device lists, present only when that cgroup did block I/O (the
	# first container to start may read the image from disk, the second from cache).
	local shape='[paths | map(select(type == "string")) | join(".")] | unique | .[]'
	ref events --stats "$rid" | jq -r "$shape" | grep -Ev '^data\.(hugetlb\.|memory\.cache$|blkio\.io)' >"$TEST_TMP/ref.keys"
	rt events --stats "$tid" | jq -r "$shape" | grep -Ev '^data\.(hugetlb\.|memory\.cache$|blkio\.io)' >"$TEST_TMP/rt.keys"
	grep -qx 'data.memory.usage.limit' "$TEST_TMP/ref.keys"
	diff "$TEST_TMP/ref.keys" "$TEST_TMP/rt.keys" >&2
	rt events --stats "$tid" | jq -e '.data.memory.usage.limit == 33554432 and .data.pids.limit == 20 and .data.pids.current == 1' >/dev/null
	ref delete --force "$rid"
	rt delete --force "$tid"
}

# --systemd-cgroup on a host without systemd: "slice:prefix:name" is laid out as systemd
# would lay out the unit (slice expanded, "prefix-name.scope"), in every hierarchy, and
# delete removes the unit's directories.
@test "cgroupsPath: --systemd-cgroup places slice:prefix:name where systemd would" {
	[ ! -e /run/systemd/system ] || skip "systemd runs this host (safehouse refuses the flag there)"
	local id pid slice="shit$$-a.slice"
	id="$(new_id)"
	config '.linux.cgroupsPath = $p | .process.args = ["sleep", "60"]' --arg p "$slice:safehouse-it-$$:$id"
	"$RUNTIME" --root "$ROOT" --systemd-cgroup run --detach --bundle "$BUNDLE" "$id" </dev/null
	pid="$(rt state "$id" | jq -r .pid)"
	local want="/shit$$.slice/shit$$-a.slice/safehouse-it-$$-$id.scope"
	grep -x "[0-9]*:memory:$want" "/proc/$pid/cgroup"
	grep -x "[0-9]*:pids:$want" "/proc/$pid/cgroup"
	[ -d "/sys/fs/cgroup/memory$want" ]
	"$RUNTIME" --root "$ROOT" --systemd-cgroup delete --force "$id"
	[ ! -d "/sys/fs/cgroup/memory$want" ]
	# The slices stay, as systemd's would; remove them here.
	find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -name "shit$$*.slice" | sort -r | xargs -r rmdir
	# Without the flag the slice form is an error naming the field, and nothing is left.
	run "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.cgroupsPath: "*"pass --systemd-cgroup"* ]]
	[ -z "$(rt list -q)" ]
	# A malformed slice with the flag: the same.
	config '.linux.cgroupsPath = "not-a-slice:p:n"'
	run "$RUNTIME" --root "$ROOT" --systemd-cgroup run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.cgroupsPath: "not-a-slice"'* ]]
}
