#!/usr/bin/env bats
# Namespaces joined by path, the time namespace, --no-pivot and --no-new-keyring.
# Each test runs against $RUNTIME; where runc defines the result, against $REFERENCE too.

load helpers

# Starts a long-running container "$1" in the background (detached) and prints its pid.
start_sleeper() {
	local id="$1"
	config '.process.args = ["sleep", "300"]'
	rt run --detach --bundle "$BUNDLE" "$id" </dev/null >/dev/null
	rt state "$id" | jq -r .pid
}

@test "namespaces: network, ipc and uts joined by path are the other container's" {
	local a pid b
	a="$(new_id)"
	config '.hostname = "holder"'
	pid="$(start_sleeper "$a")"
	# The second container joins by path and prints the identities it sees.
	config '.hostname = null | .linux.namespaces |= map(if .type == "network" or .type == "ipc" or .type == "uts" then .path = "/proc/\($p)/ns/\(if .type == "network" then "net" else .type end)" else . end) | .process.args = ["sh", "-c", "for n in net ipc uts; do readlink /proc/self/ns/$n; done; hostname"]' --arg p "$pid"
	b="$(new_id)"
	run rt run --bundle "$BUNDLE" "$b" </dev/null
	[ "$status" = 0 ]
	[ "${lines[0]}" = "$(readlink /proc/$pid/ns/net)" ]
	[ "${lines[1]}" = "$(readlink /proc/$pid/ns/ipc)" ]
	[ "${lines[2]}" = "$(readlink /proc/$pid/ns/uts)" ]
	[ "${lines[3]}" = "holder" ]
	rt delete --force "$a"
}

@test "namespaces: a pid namespace joined by path shows the other container's processes" {
	local a pid
	a="$(new_id)"
	pid="$(start_sleeper "$a")"
	config '.linux.namespaces |= map(if .type == "pid" then .path = "/proc/\($p)/ns/pid" else . end) | .process.args = ["sh", "-c", "readlink /proc/self/ns/pid; ps -o pid,args | grep -c \"[s]leep 300\""]' --arg p "$pid"
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[ "${lines[0]}" = "$(readlink /proc/$pid/ns/pid)" ]
	[ "${lines[1]}" = 1 ]
	rt delete --force "$a"
}

@test "namespaces: a user namespace joined by path keeps its mappings" {
	local a pid
	a="$(new_id)"
	config '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .mounts |= map(select(.type != "cgroup"))'
	pid="$(start_sleeper "$a")"
	config '.linux.namespaces |= map(if .type == "user" then .path = "/proc/\($p)/ns/user" else . end) | del(.linux.uidMappings) | del(.linux.gidMappings) | .process.args = ["sh", "-c", "readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u"]' --arg p "$pid"
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[ "${lines[0]}" = "$(readlink /proc/$pid/ns/user)" ]
	[ "$(echo "${lines[1]}" | tr -s ' ')" = " 0 100000 65536" ]
	[ "${lines[2]}" = 0 ]
	rt delete --force "$a"
}

@test "namespaces: a bad namespace path fails create in one line and leaves nothing" {
	config '.linux.namespaces |= map(if .type == "network" then .path = "/proc/999999999/ns/net" else . end)'
	run rt create --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"linux.namespaces["*"].path"* ]]
	[ -z "$(root_entries)" ]
}

@test "namespaces: time namespace with offsets (runtime-spec 1.2)" {
	[ -e /proc/self/ns/time ] || skip "this kernel has no time namespaces"
	config '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}} | .process.args = ["cut", "-d.", "-f1", "/proc/uptime"]'
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	host="$(cut -d. -f1 /proc/uptime)"
	[ "$output" -ge $((host + 864000 - 5)) ]
}

@test "--no-pivot: the container runs with MS_MOVE and chroot, same view as pivot_root" {
	cmd 'cat /proc/self/mountinfo | awk "{print \$5}" | sort; ls /'
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	local pivot="$output"
	run rt run --no-pivot --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[ "$output" = "$pivot" ]
	run ref run --no-pivot --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$output" = "$pivot" ]
}

@test "--no-new-keyring: the session keyring is the container's own (_ses.ID) unless asked" {
	config '.linux.maskedPaths = []'
	local id="it-keyring-$$-$RANDOM"
	config '.process.args = ["sh", "-c", "grep -c \" _ses.\($id): \" /proc/keys"]' --arg id "$id"
	run rt run --bundle "$BUNDLE" "$id" </dev/null
	[ "$output" = 1 ]
	run ref run --bundle "$BUNDLE" "$id" </dev/null
	[ "$output" = 1 ]
	# A fresh id: with --no-new-keyring no keyring of that name is ever made.
	id="it-nokeyring-$$-$RANDOM"
	config '.process.args = ["sh", "-c", "grep -c \" _ses.\($id): \" /proc/keys"]' --arg id "$id"
	run rt run --no-new-keyring --bundle "$BUNDLE" "$id" </dev/null
	[ "$output" = 0 ]
}

@test "namespaces: a new cgroup namespace is rooted at the container's cgroup (differential)" {
	run_both '.linux.namespaces += [{"type": "cgroup"}] | .process.args = ["sh", "-c", "grep -E \":(pids|memory|name=systemd):\" /proc/self/cgroup | sort; grep \" /sys/fs/cgroup/pids \" /proc/self/mountinfo | cut -d\" \" -f4,5"]'
	expect_ok
	# Inside its own cgroup namespace the container sees itself at the root.
	echo "$ref_out" | grep -q "pids:/$"
}

# The runtime makes a new network namespace itself and hands it to the init
# (NamespacePlan.networkFromRuntime). What must hold is what runc gives: only lo, in
# /proc/net and in a sysfs the container mounted; the createRuntime hook, which runs
# in the runtime with the container's pid, sees the namespace the process ends up in;
# net sysctls land in it; and the host keeps its own.
@test "namespaces: a new network namespace: only lo in /proc/net and sysfs, a net sysctl lands in it, hooks see it" {
	config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	cmd 'ls /sys/class/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; cat /proc/sys/net/ipv4/ip_forward'
	run_both
	expect_ok
	expect_out "lo
lo
1"
	local host_forward
	host_forward="$(cat /proc/sys/net/ipv4/ip_forward)"
	# The hook records the pid's namespace; the process prints its own.
	config '.hooks = {createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "readlink /proc/$(jq -r .pid)/ns/net >'"$TEST_TMP"'/hook-net"]}]}'
	cmd 'readlink /proc/self/ns/net'
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" = 0 ]
	[ "$output" = "$(cat "$TEST_TMP/hook-net")" ]
	[ "$output" != "$(readlink /proc/self/ns/net)" ]
	[ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/$$/ns/net)" ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_forward" ]
}
