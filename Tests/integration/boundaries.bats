#!/usr/bin/env bats
# Boundaries a hostile image or a careless caller can reach through the create path:
# a container id or cgroupsPath naming a host cgroup (the container must never join,
# kill or remove someone else's processes or cgroups), uid/gid maps the kernel
# refuses (create must fail at once, not hang), proc or sysfs mounted through a
# symlink in the image, a read-only cgroup mount that stays writable, UTS names the
# kernel refuses, and AppArmor/SELinux labels asked for on a host without the LSM.
# These need the real runtime (RUNTIME=safehouse) and root.

load helpers

# cg_dir HIERARCHY NAME: where cgroup NAME is in HIERARCHY (a v1 controller, or
# "unified") relative to this shell's own cgroup there, as a container without a
# cgroupsPath is placed; with ROOTED=1, from the hierarchy's root (an absolute
# linux.cgroupsPath "/NAME").
cg_dir() {
	local own
	if [ "${ROOTED:-}" = 1 ]; then
		own=/
	elif [ "$1" = unified ]; then
		own="$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)"
	else
		own="$(awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)"
	fi
	[ "$own" = / ] && own=""
	echo "/sys/fs/cgroup/$1$own/$2"
}

# host_cgroup NAME: makes cgroup NAME in the memory (v1) and unified (v2) hierarchies,
# as a host service would have it, and prints the memory one.
host_cgroup() {
	mkdir -p "$(cg_dir memory "$1")"
	if [ -d /sys/fs/cgroup/unified ]; then mkdir -p "$(cg_dir unified "$1")"; fi
	cg_dir memory "$1"
}

# host_process NAME: starts a long sleep in host cgroup NAME (every hierarchy made by
# host_cgroup) and prints its pid.
host_process() {
	sleep 300 </dev/null >/dev/null 2>&1 &
	local pid=$!
	echo "$pid" >"$(cg_dir memory "$1")/cgroup.procs"
	if [ -d /sys/fs/cgroup/unified ]; then echo "$pid" >"$(cg_dir unified "$1")/cgroup.procs"; fi
	echo "$pid"
}

# create_quietly ID: `create`, its stdio on files; prints what it wrote to stderr.
create_quietly() {
	local status=0
	rt create --bundle "$BUNDLE" "$1" </dev/null >/dev/null 2>"$TEST_TMP/create.err" || status=$?
	cat "$TEST_TMP/create.err"
	return "$status"
}

alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status"; }

@test "cgroups: agent run --id naming a host cgroup neither joins it nor kills or removes it at the deadline" {
	local id pid
	id="$(new_id)"
	host_cgroup "$id" >/dev/null
	pid="$(host_process "$id")"
	run -124 "$RUNTIME" --root "$ROOT" agent run --rootfs "$ROOTFS" --summary json --id "$id" --timeout 1s -- sleep 30
	alive "$pid" || { echo "# the host's process in cgroup $id was killed" >&2; false; }
	[ -d "$(cg_dir memory "$id")" ] || { echo "# the host's cgroup $id was removed" >&2; false; }
	grep -qx "$pid" "$(cg_dir memory "$id")/cgroup.procs"
	grep -qx "$pid" "$(cg_dir unified "$id")/cgroup.procs"
	kill -9 "$pid"
}

@test "cgroups: create without linux.cgroupsPath refuses a cgroup that already exists under the container's id, in any hierarchy" {
	local id dir
	id="$(new_id)"
	# In one v1 hierarchy only: every hierarchy is checked, not one standing for all.
	dir="$(cg_dir memory "$id")"
	mkdir "$dir"
	# Into files, not bats' pipe: an init left waiting for `start` would hold it open.
	run ! create_quietly "$id"
	[[ "$output" == *"$dir already exists"* ]] || { echo "# $output" >&2; false; }
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	[ -z "$(root_entries)" ]
	[ -d "$dir" ]
	# Nothing made in the other hierarchies either.
	[ ! -e "$(cg_dir pids "$id")" ]
	rmdir "$dir"
	if [ -d /sys/fs/cgroup/unified ]; then
		mkdir "$(cg_dir unified "$id")"
		rt delete --force "$id" 2>/dev/null || true
		run ! create_quietly "$id"
		[[ "$output" == *"$(cg_dir unified "$id") already exists"* ]] || { echo "# $output" >&2; false; }
		[ -d "$(cg_dir unified "$id")" ]
		[ ! -e "$(cg_dir memory "$id")" ]
	fi
}

@test "cgroups: an explicit linux.cgroupsPath holding processes is refused: container's cgroup is not empty" {
	local id name pid
	id="$(new_id)"
	name="$(new_id)"
	export ROOTED=1
	host_cgroup "$name" >/dev/null
	pid="$(host_process "$name")"
	config '.linux.cgroupsPath = $p' --arg p "/$name"
	run ! rt run --bundle "$BUNDLE" "$id"
	[[ "$output" == *"container's cgroup is not empty"* ]] || { echo "# $output" >&2; false; }
	[[ "$output" == *"linux.cgroupsPath"* ]]
	[ -z "$(root_entries)" ]
	alive "$pid"
	grep -qx "$pid" "/sys/fs/cgroup/memory/$name/cgroup.procs"
	kill -9 "$pid"
}

@test "cgroups: processes in a cgroup below an explicit linux.cgroupsPath count too" {
	local id name pid
	id="$(new_id)"
	name="$(new_id)"
	# Relative: below this shell's own cgroup, as runc reads it.
	host_cgroup "$name/inner" >/dev/null
	pid="$(host_process "$name/inner")"
	config '.linux.cgroupsPath = $p' --arg p "$name"
	run ! rt run --bundle "$BUNDLE" "$id"
	[[ "$output" == *"container's cgroup is not empty: 1 process(es)"* ]] || { echo "# $output" >&2; false; }
	alive "$pid"
	kill -9 "$pid"
	# The teardown removes cgroups named like an id, not "inner" below one.
	wait_for 5 rmdir "$(cg_dir memory "$name/inner")"
	if [ -d /sys/fs/cgroup/unified ]; then wait_for 5 rmdir "$(cg_dir unified "$name/inner")"; fi
}

@test "cgroups: an existing empty linux.cgroupsPath is joined as runc does, and delete leaves it in place" {
	local id name
	id="$(new_id)"
	name="$(new_id)"
	mkdir "/sys/fs/cgroup/memory/$name"
	config '.linux.cgroupsPath = $p' --arg p "/$name"
	cmd 'cat /proc/self/cgroup'
	run rt run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || { echo "# $output" >&2; false; }
	[[ "$output" == *"memory:/$name"* ]]
	# Made by the runtime in the other hierarchies: removed with the container.
	[ ! -e "/sys/fs/cgroup/pids/$name" ]
	# Not made by it: left as it was.
	[ -d "/sys/fs/cgroup/memory/$name" ]
}

@test "cgroups: delete --force of a half-made container never kills or removes a cgroup the runtime did not make" {
	local id pid
	id="$(new_id)"
	host_cgroup "$id" >/dev/null
	pid="$(host_process "$id")"
	# A create killed before it saved state leaves only its config copy behind.
	mkdir -p "$ROOT/$id"
	chmod 0700 "$ROOT"
	cp "$BUNDLE/config.json" "$ROOT/$id/config.json"
	rt delete --force "$id"
	[ ! -e "$ROOT/$id" ]
	alive "$pid" || { echo "# the host's process in cgroup $id was killed" >&2; false; }
	[ -d "$(cg_dir memory "$id")" ]
	kill -9 "$pid"
}

@test "cgroups: a gvisor sandbox's cgroup under /safehouse-gvisor must not exist yet" {
	command -v runsc >/dev/null || skip "no runsc"
	local id
	id="$(new_id)"
	mkdir -p "/sys/fs/cgroup/pids/safehouse-gvisor/$id"
	run ! timeout 60 "$RUNTIME" --root "$ROOT" --backend gvisor agent run --rootfs "$ROOTFS" --id "$id" -- true
	[[ "$output" == *"/sys/fs/cgroup/pids/safehouse-gvisor/$id already exists"* ]] || { echo "# $output" >&2; false; }
	[ -z "$(root_entries)" ]
	rmdir "/sys/fs/cgroup/pids/safehouse-gvisor/$id"
}

@test "mappings: overlapping uidMappings fail at once with the field named, leaving nothing" {
	local id start
	id="$(new_id)"
	config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000},
		                        {"containerID": 500, "hostID": 200000, "size": 1000}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	start=$SECONDS
	run ! timeout -k 5 30 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id"
	[ "$status" -ne 124 ] && [ "$status" -ne 137 ] || { echo "# create hung (exit $status)" >&2; false; }
	[ $((SECONDS - start)) -lt 10 ]
	[[ "$output" == *"linux.uidMappings[1]"*"overlap"* ]] || { echo "# $output" >&2; false; }
	[ -z "$(root_entries)" ]
}

@test "mappings: overlapping host ids in gidMappings are refused too" {
	local id
	id="$(new_id)"
	config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 100},
		                        {"containerID": 1000, "hostID": 100050, "size": 100}]'
	run ! timeout -k 5 30 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id"
	[[ "$output" == *"linux.gidMappings[1]"*"host ids"* ]] || { echo "# $output" >&2; false; }
}

@test "create: SIGTERM ends a run whose container set-up never answers, naming the step, leaving nothing" {
	local id pid i
	id="$(new_id)"
	# The init runs createContainer hooks before it reports ready: this one never ends.
	# (A duration no other test uses, to find the hook's process afterwards.)
	local seconds=$((700000 + $$))
	config '.hooks.createContainer = [{"path": "/bin/sleep", "args": ["sleep", $s]}]' --arg s "$seconds"
	"$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id" </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	wait_for 10 test -e "$ROOT/$id/state.json"
	sleep 0.5
	kill -TERM "$pid"
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		echo "# run still waiting 10 s after SIGTERM" >&2
		false
	fi
	grep -q "interrupted by signal 15 while setting up the container" "$TEST_TMP/err" || { cat "$TEST_TMP/err" >&2; false; }
	[ -z "$(root_entries)" ]
	# The init and its hook went with the failed create.
	wait_for 5 sh -c "! pgrep -xf 'sleep $seconds' >/dev/null"
}

# image_with LINK TARGET: a private copy of the rootfs whose LINK is a symlink to TARGET.
image_with() {
	cp -a "$ROOTFS" "$TEST_TMP/rootfs"
	rm -rf "$TEST_TMP/rootfs/$1"
	ln -s "$2" "$TEST_TMP/rootfs/$1"
	config '.root.path = $r | .root.readonly = false' --arg r "$TEST_TMP/rootfs"
}

@test "mounts: proc onto a /proc that is a symlink in the image is refused, as runc refuses it" {
	image_with proc tmp
	run_both
	expect_fail
	[ "$rt_status" -ne 0 ]
	[[ "$rt_err" == *'filesystem "proc" must be mounted on ordinary directory'* ]] || { echo "# $rt_err" >&2; false; }
	[[ "$rt_err" == *"/proc"* ]]
}

@test "mounts: sysfs onto a /sys that is a symlink in the image is refused" {
	image_with sys mnt
	run ! rt run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *'filesystem "sysfs" must be mounted on ordinary directory'* ]] || { echo "# $output" >&2; false; }
}

@test "mounts: proc below a symlinked directory of the image is refused" {
	image_with sys mnt
	config '.mounts = [.mounts[] | select(.destination != "/sys")] + [{"destination": "/sys/kernel", "type": "proc", "source": "proc"}]'
	run ! rt run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *'filesystem "proc" must be mounted on ordinary directory'* ]] || { echo "# $output" >&2; false; }
}

@test "mounts: a read-only cgroup mount leaves the tmpfs at /sys/fs/cgroup read-only too" {
	config '.mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]
		| .process.capabilities = {"bounding": ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"], "effective": ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"], "permitted": ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"]}'
	cmd 'grep " /sys/fs/cgroup tmpfs " /proc/mounts; mkdir /sys/fs/cgroup/extra 2>&1; touch /sys/fs/cgroup/file 2>&1; ls /sys/fs/cgroup/memory/cgroup.procs'
	run rt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ] || { echo "# $output" >&2; false; }
	[[ "${lines[0]}" == *" tmpfs ro,"* ]] || { echo "# $output" >&2; false; }
	[[ "$output" == *"can't create directory '/sys/fs/cgroup/extra': Read-only file system"* ]]
	[[ "$output" == *"/sys/fs/cgroup/file: Read-only file system"* ]]
	[[ "$output" == *"/sys/fs/cgroup/memory/cgroup.procs"* ]]
}

@test "names: a 1 MB hostname is refused at validation with the field named" {
	config '.hostname = ("a" * 1000000)'
	run ! rt run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"hostname: is 1000000 bytes long; the kernel allows at most 64"* ]] || { echo "# ${output:0:300}" >&2; false; }
	[ -z "$(root_entries)" ]
}

@test "names: a domainname longer than 64 bytes is refused with the field named" {
	config '.domainname = ("d" * 65)'
	run ! rt run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"domainname: is 65 bytes long"* ]] || { echo "# $output" >&2; false; }
}

@test "labels: process.apparmorProfile on a host without AppArmor is refused, as runc refuses it" {
	[ ! -e /sys/kernel/security/apparmor ] || skip "this host has AppArmor"
	run_both '.process.apparmorProfile = "docker-default"'
	expect_fail
	[[ "$rt_err" == *'process.apparmorProfile "docker-default": apparmor is not enabled on this host'* ]] || { echo "# $rt_err" >&2; false; }
	[ -z "$(root_entries)" ]
}

@test "labels: process.selinuxLabel and linux.mountLabel without SELinux are refused, as runc refuses them" {
	[ ! -e /sys/fs/selinux/enforce ] || skip "this host has SELinux"
	run_both '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
	expect_fail
	[[ "$rt_err" == *"process.selinuxLabel"*"selinux label is specified in config, but selinux is disabled or not supported"* ]] || { echo "# $rt_err" >&2; false; }
	config 'del(.process.selinuxLabel) | .linux.mountLabel = "system_u:object_r:container_file_t:s0"'
	run_both
	expect_fail
	[[ "$rt_err" == *"linux.mountLabel"*"selinux is disabled"* ]] || { echo "# $rt_err" >&2; false; }
	[ -z "$(root_entries)" ]
}

@test "labels: exec --process asking for an AppArmor profile is refused" {
	[ ! -e /sys/kernel/security/apparmor ] || skip "this host has AppArmor"
	local id
	id="$(new_id)"
	cmd 'sleep 30'
	rt run -d --bundle "$BUNDLE" "$id"
	jq '.process | .args = ["true"] | .apparmorProfile = "docker-default"' "$BUNDLE/config.json" >"$TEST_TMP/process.json"
	run ! rt exec --process "$TEST_TMP/process.json" "$id"
	[[ "$output" == *"--process.apparmorProfile"* ]] || { echo "# $output" >&2; false; }
}
