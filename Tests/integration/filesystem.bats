#!/usr/bin/env bats
# Differential tests of what the container sees of its filesystem and identity:
# mounts, root.readonly, masked and read-only paths, devices and /dev symlinks,
# hostname/domainname, sysctl, user namespace mappings, cgroup placement.

load helpers

# Mount table normalised to what must be the same under any correct runtime:
# mount point, fstype, source, per-mount options, super options, propagation kinds.
# (Mount ids, device numbers and the root field, which holds cgroup paths that name
# the container id, differ.) Sorted stably by mount point: the stacking order of
# mounts at one mount point is kept.
MOUNTS_AWK='{ prop = ""; for (i = 7; $i != "-"; i++) { f = $i; sub(/:.*/, "", f); prop = prop (prop == "" ? "" : ",") f }
	if (prop == "") prop = "private"
	print $5, $(i+1), $(i+2), $6, $(i+3), prop }'

# The tmpfs holding the v1 hierarchies at /sys/fs/cgroup is left out: a read-only
# cgroup mount makes it read-only here, where runc 1.1.5 leaves it writable (its
# remount of the cgroup root does not take); boundaries.bats checks it.
mounts_cmd() {
	cmd "awk '$MOUNTS_AWK' /proc/self/mountinfo | grep -v '^/sys/fs/cgroup tmpfs ' | sort -s -k1,1"
}

@test "mounts: the default spec's mount table" {
	mounts_cmd
	run_both
	expect_ok
	[[ "$ref_out" == *"/ ext4 "*" ro,relatime "* ]]
	[[ "$ref_out" == *"/dev/pts devpts devpts rw,nosuid,noexec,relatime rw,gid=5,mode=620,ptmxmode=666 private"* ]]
	[[ "$ref_out" == *"/proc/sys proc proc ro,relatime rw private"* ]]
	[[ "$ref_out" == *"/sys/fs/cgroup/memory cgroup cgroup ro,nosuid,nodev,noexec,relatime"* ]]
}

@test "mounts: bind (ro, nosuid), rbind, tmpfs with options, mqueue; new mount points created" {
	mkdir -p "$TEST_TMP/src/sub" "$TEST_TMP/rsrc"
	echo hi >"$TEST_TMP/src/f"
	mount -t tmpfs -o size=1m tmpfs "$TEST_TMP/rsrc" # a submount for rbind to carry
	mkdir "$TEST_TMP/rsrc/inner"
	echo deep >"$TEST_TMP/rsrc/inner/g"
	config '.mounts += [
		{destination: "/mnt/ro", type: "bind", source: $src, options: ["bind", "ro", "nosuid", "nodev"]},
		{destination: "/mnt/rw", type: "bind", source: $src, options: ["rbind", "rw"]},
		{destination: "/mnt/r", type: "none", source: $rsrc, options: ["rbind"]},
		{destination: "/mnt/t", type: "tmpfs", source: "tmpfs", options: ["size=1m", "mode=700", "noexec", "nosuid"]},
		{destination: "/mnt/q", type: "mqueue", source: "mqueue", options: ["nosuid", "nodev", "noexec"]}]' \
		--arg src "$TEST_TMP/src" --arg rsrc "$TEST_TMP/rsrc"
	# The bundle's rootfs is read-only and shared: give /mnt its own tmpfs first.
	config '.mounts = [.mounts[0], {destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}] + .mounts[1:]'
	cmd "awk '$MOUNTS_AWK' /proc/self/mountinfo | grep '^/mnt' | sort -s -k1,1;
		cat /mnt/ro/f /mnt/r/inner/g; touch /mnt/ro/x 2>/dev/null; echo ro=\$?;
		touch /mnt/rw/y; echo rw=\$?; stat -c '%a' /mnt/t"
	run_both
	expect_ok
	[ -f "$TEST_TMP/src/y" ]
	[[ "$ref_out" == *$'hi\ndeep\nro=1\nrw=0\n700'* ]]
	[[ "$ref_out" == *"/mnt/ro ext4 "*" ro,nosuid,nodev,"* ]]
}

@test "mounts: a relative bind source is relative to the bundle" {
	mkdir -p "$BUNDLE/data"
	echo rel >"$BUNDLE/data/f"
	config '.mounts += [{destination: "/tmp", type: "bind", source: "data", options: ["bind", "ro"]}]'
	run_both '.process.args = ["cat", "/tmp/f"]'
	expect_out "rel"
}

@test "mounts: a missing bind source fails" {
	config '.mounts += [{destination: "/tmp", type: "bind", source: "/no/such/dir", options: ["bind"]}]'
	run_both '.process.args = ["true"]'
	expect_fail
}

@test "root.readonly: touch / fails; writable mounts still work" {
	run_both '.process.args = ["sh", "-c", "touch /x 2>/dev/null; echo $?; touch /dev/shm/x; echo $?"]'
	expect_out $'1\n0'
}

@test "root.readonly false: the root is writable" {
	run_both '.root.readonly = false | .process.args = ["sh", "-c", "f=/tmp/.it-$$-$RANDOM; touch $f && echo ok; rm -f $f; awk \"\\$5 == \\\"/\\\" { split(\\$6, o, \\\",\\\"); print o[1] }\" /proc/self/mountinfo"]'
	expect_out $'ok\nrw'
}

@test "maskedPaths and readonlyPaths behave" {
	config '.linux.maskedPaths += ["/etc/hostname", "/does/not/exist"] | .linux.readonlyPaths += ["/tmp", "/does/not/exist/either"]'
	cmd 'wc -c </proc/timer_list; ls /sys/firmware | wc -l; echo x >/etc/hostname; wc -c </etc/hostname;
		echo name >/proc/sys/kernel/hostname 2>/dev/null; echo sys=$?; touch /tmp/x 2>/dev/null; echo tmp=$?;
		cat /proc/keys | wc -l'
	run_both
	expect_out $'0\n0\n0\nsys=1\ntmp=1\n0'
}

@test "linux.devices: node type, numbers, mode, owner; default devices" {
	config '.linux.devices = [
		{path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 432, uid: 1000, gid: 5},
		{path: "/dev/sub/loopish", type: "b", major: 7, minor: 200, fileMode: 384, uid: 0, gid: 0}]'
	# Allow the block device through the device cgroup too, as engines do.
	config '.linux.resources.devices += [{allow: true, type: "b", major: 7, minor: 200, access: "rwm"}]'
	run_both '.process.args = ["sh", "-c", "stat -c \"%n %F %a %u %g %t %T\" /dev/fuse /dev/sub/loopish /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty"]'
	expect_out "/dev/fuse character special file 660 1000 5 a e5
/dev/sub/loopish block special file 600 0 0 7 c8
/dev/null character special file 666 0 0 1 3
/dev/zero character special file 666 0 0 1 5
/dev/full character special file 666 0 0 1 7
/dev/random character special file 666 0 0 1 8
/dev/urandom character special file 666 0 0 1 9
/dev/tty character special file 666 0 0 5 0"
}

@test "/dev: symlinks fd, stdin, stdout, stderr, ptmx and the whole listing" {
	run_both '.process.args = ["sh", "-c", "ls -lnA /dev | awk \"NR > 1 { \\$6 = \\$7 = \\$8 = \\\"\\\"; print }\""]'
	expect_ok
	[[ "$ref_out" == *"fd -> /proc/self/fd"* ]]
	[[ "$ref_out" == *"stdin -> /proc/self/fd/0"* ]]
	[[ "$ref_out" == *"stdout -> /proc/self/fd/1"* ]]
	[[ "$ref_out" == *"stderr -> /proc/self/fd/2"* ]]
	[[ "$ref_out" == *"ptmx -> pts/ptmx"* ]]
}

@test "hostname" {
	run_both '.hostname = "box1" | .process.args = ["sh", "-c", "hostname; uname -n; cat /proc/sys/kernel/domainname"]'
	expect_out $'box1\nbox1\n(none)'
}

@test "domainname (runtime-spec 1.1; not differential)" {
	# runc 1.1.5 implements runtime-spec 1.0.2, which has no domainname: it ignores
	# the field and the container sees "(none)". safehouse implements spec 1.2.
	if runtime_is_runc11; then skip "runc 1.1 ignores domainname"; fi
	config '.hostname = "box1" | .domainname = "example.org" | .process.args = ["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"]'
	run rt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" = 0 ]
	[ "$output" = $'box1\nexample.org' ]
}

@test "hostname without a uts namespace fails" {
	run_both '.linux.namespaces |= map(select(.type != "uts")) | .process.args = ["true"]'
	expect_fail
}

@test "sysctl: net.ipv4.ip_forward=1 in a network namespace" {
	local host_fwd host_shmmni
	host_fwd="$(cat /proc/sys/net/ipv4/ip_forward)"
	host_shmmni="$(cat /proc/sys/kernel/shmmni)"
	run_both '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "2048"} | .process.args = ["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni"]'
	expect_out $'1\n2048'
	# The host's values are untouched.
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
	[ "$(cat /proc/sys/kernel/shmmni)" = "$host_shmmni" ]
}

@test "sysctl: a net sysctl without a network namespace fails" {
	run_both '.linux.namespaces |= map(select(.type != "network")) | .linux.sysctl = {"net.ipv4.ip_forward": "1"} | .process.args = ["true"]'
	expect_fail
}

@test "sysctl: a sysctl that no namespace isolates fails" {
	run_both '.linux.sysctl = {"vm.swappiness": "10"} | .process.args = ["true"]'
	expect_fail
}

@test "user namespace: uidMappings and gidMappings" {
	config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	run_both '.process.args = ["sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map; stat -c \"%u %g\" / /dev/null; grep CapEff /proc/self/status"]'
	expect_out "uid=0(root) gid=0(root)
         0     100000      65536
         0     200000      65536
65534 65534
65534 65534
CapEff:	0000000020000420"
}

@test "user namespace: the mount table" {
	config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	mounts_cmd
	run_both
	expect_ok
	[[ "$ref_out" == *"/dev/null devtmpfs devtmpfs"* ]] # devices are bind mounts under userns
}

@test "user namespace: a non-root user inside with several mappings" {
	config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1}, {containerID: 1, hostID: 100001, size: 65535}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .process.user = {uid: 1000, gid: 1000, additionalGids: [5]}'
	run_both '.process.args = ["sh", "-c", "id; cat /proc/self/uid_map"]'
	expect_out "uid=1000(user) gid=1000(user) groups=5(tty)
         0     100000          1
         1     100001      65535"
}

@test "cgroups: an explicit cgroupsPath is where the process lives" {
	local cg="/safehouse-it-$$-$BATS_TEST_NUMBER"
	run_both '.linux.cgroupsPath = $cg | .process.args = ["sh", "-c", "grep -E \":(pids|memory|cpu|name=systemd):\" /proc/self/cgroup | sort"]' --arg cg "$cg"
	expect_ok
	[[ "$ref_out" == *":pids:$cg"* ]]
	# Removed again when the container is deleted.
	[ ! -d "/sys/fs/cgroup/pids$cg" ]
}

@test "cgroups: without cgroupsPath, a child of the caller's cgroup named after the id" {
	# runc 1.1: an empty cgroupsPath means "<caller's cgroup>/<container id>" in each
	# hierarchy (relative to the runtime's own cgroup, e.g. under a memory cgroup the
	# caller is in). Normalise by cutting the id.
	run_both '.process.args = ["sh", "-c", "grep -E \":(pids|memory):\" /proc/self/cgroup | sed \"s#/[^/]*\\$##\" | sort"]'
	expect_ok
	[ "$(echo "$ref_out" | grep ':pids:')" = "$(grep ':pids:' /proc/self/cgroup | sed 's#/[^/]*$##; s#:$#:#')" ] ||
		[ "$(echo "$ref_out" | grep ':pids:')" = "$(grep ':pids:' /proc/self/cgroup | sed 's#/$##')" ]
}

# joins_without_a_move_by_pid: under strace, a `run` of the bundle is born in its v2
# cgroup (where the host has a v2 hierarchy), opens no cgroup.procs for writing on the
# whole path, and one tasks file per v1 hierarchy.
joins_without_a_move_by_pid() {
	local v1 v2
	v1="$(awk '$3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/" { n++ } END { print n + 0 }' /proc/self/mounts)"
	v2="$(awk '$3 == "cgroup2" { n++ } END { print n + 0 }' /proc/self/mounts)"
	strace -f -qq -e trace=clone3,openat -o "$TEST_TMP/trace" "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)" </dev/null >/dev/null
	if [ "$v2" -gt 0 ]; then
		grep -q 'clone3(.*CLONE_INTO_CGROUP' "$TEST_TMP/trace"
	fi
	[ "$(grep -c 'cgroup.procs", O_WRONLY' "$TEST_TMP/trace")" = 0 ]
	[ "$(grep -c '/tasks", O_WRONLY' "$TEST_TMP/trace")" = "$v1" ]
}

# A move into a cgroup by pid (a cgroup.procs write) waits for an RCU grace period in
# the kernel, 1-10 ms here; the init is instead born in its v2 cgroup (clone3
# CLONE_INTO_CGROUP) and moves its own thread into the v1 ones (a "0" to each tasks
# file, which takes no global lock). What must hold is runc's membership, in every
# hierarchy, before the process runs.
@test "cgroups: the init is born in its v2 cgroup and joins its v1 cgroups itself; the membership is runc's" {
	local cg="/safehouse-it-$$-$BATS_TEST_NUMBER"
	run_both '.linux.cgroupsPath = $cg | .process.args = ["sh", "-c", "sort /proc/self/cgroup"]' --arg cg "$cg"
	expect_ok
	[[ "$ref_out" == *":pids:$cg"* ]]
	joins_without_a_move_by_pid
}

# The same for an init in a user namespace of its own (every agent sandbox's): the
# intermediate process is the one born in the v2 cgroup, and the init, which may not
# open the host's cgroup files, joins the v1 ones through tasks files the runtime
# opened and sent it.
@test "cgroups: an init in a user namespace joins its cgroups without a move by pid; the membership is runc's" {
	local cg="/safehouse-it-$$-$BATS_TEST_NUMBER"
	local userns='.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = .linux.uidMappings | .mounts |= map(select(.type != "cgroup"))'
	run_both "$userns"' | .linux.cgroupsPath = $cg | .process.args = ["sh", "-c", "sort /proc/self/cgroup; cat /proc/self/uid_map"]' --arg cg "$cg"
	expect_ok
	[[ "$ref_out" == *":pids:$cg"* ]]
	[[ "$ref_out" == *" 100000 "* ]]
	joins_without_a_move_by_pid
}
