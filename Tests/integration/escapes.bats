#!/usr/bin/env bats
# Known ways out of a runc-style runtime, each tried from inside a container and shown
# to fail (differential: the reference runtime must hold too).

load helpers

# CVE-2019-5736: a container process that can open /proc/<pid>/exe of the runtime's
# process (the init before it execs, or an `exec` being set up) reaches the host's
# runtime binary and can overwrite it once the runtime exits. The runtime's processes
# are not dumpable until they exec the user's program, so /proc/<pid>/exe is closed
# to the container (it has no CAP_SYS_PTRACE).
@test "escapes: a container cannot open the runtime's binary through /proc/PID/exe of a process being set up" {
	local a b apid bpid side r
	for side in ref rt; do
		if [ "$side" = ref ]; then r=("$REFERENCE" --root "$REF_ROOT"); else r=("$RUNTIME" --root "$ROOT"); fi
		a="$(new_id)"
		b="$(new_id)"
		config '.process.args = ["sleep", "60"] | .process.terminal = false'
		"${r[@]}" run --detach --bundle "$BUNDLE" "$a" </dev/null
		apid="$("${r[@]}" state "$a" | jq -r .pid)"
		# B joins A's pid namespace and stays created: its init waits for `start`.
		jq --arg p "/proc/$apid/ns/pid" '.linux.namespaces = [.linux.namespaces[] | if .type == "pid" then .path = $p else . end]' \
			"$BUNDLE/config.json" >"$TEST_TMP/b.json"
		mkdir -p "$TEST_TMP/bundle-b"
		cp "$TEST_TMP/b.json" "$TEST_TMP/bundle-b/config.json"
		"${r[@]}" create --bundle "$TEST_TMP/bundle-b" "$b" </dev/null
		bpid="$("${r[@]}" state "$b" | jq -r .pid)"
		# B's init as A sees it: the pid in A's namespace (NSpid's last field).
		local inner
		inner="$(awk '/^NSpid:/ { print $NF }' "/proc/$bpid/status")"
		[ -n "$inner" ]
		run "${r[@]}" exec "$a" sh -c "ls /proc/$inner >/dev/null && echo visible; cat /proc/$inner/exe >/dev/null 2>&1 && echo exe-readable; readlink /proc/$inner/exe >/dev/null 2>&1 && echo exe-linkable; echo done"
		echo "# $side: $output"
		[ "$status" -eq 0 ]
		[ "$output" = "visible
done" ]
		"${r[@]}" delete --force "$b"
		"${r[@]}" delete --force "$a"
	done
}

# CVE-2024-21626: a descriptor of the runtime's (a host directory) still open when the
# init changes to process.cwd lets cwd "/proc/self/fd/N" land outside the root. Every
# N the runtime could have open must fail to start, or start inside the root.
@test "escapes: process.cwd through /proc/self/fd/N never lands outside the root; no host descriptor leaks" {
	local n
	cmd 'ls /proc/self/fd | sort -n | tr "\n" " "; echo; pwd -P'
	run_both
	[ "$rt_out" = "0 1 2 3 
/" ] # 3 is ls's own directory descriptor
	for n in 3 4 5 6 7 8 9 10 11 12; do
		config '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		cmd 'pwd -P; ls /proc/self/cwd/ | head -n 3'
		status=0
		out="$(rt run --bundle "$BUNDLE" "$(new_id)" </dev/null 2>&1)" || status=$?
		# Either the runtime refuses (no such directory), or the directory is inside.
		if [ "$status" -eq 0 ]; then
			echo "# cwd fd $n: $out"
			case "$(echo "$out" | head -n1)" in /proc/* | /dev/* | /) ;; *) false ;; esac
			! echo "$out" | grep -q "config.json\|state.json\|rootfs" || false
		fi
	done
}

# Masked and read-only /proc paths hold against root in the container, also after an
# attempt to remount them (no CAP_SYS_ADMIN) or to reach them through another path.
@test "escapes: /proc writes through masked and read-only paths fail (differential)" {
	cmd '
		(echo h >/proc/sysrq-trigger) 2>/dev/null && echo sysrq-written
		(echo 1 >/proc/sys/kernel/sysrq) 2>/dev/null && echo sysctl-written
		[ -s /proc/kcore ] && echo kcore-readable
		cat /proc/keys 2>/dev/null | grep -q . && echo keys-readable
		mount -o remount,rw /proc/sys 2>/dev/null && echo remounted
		umount /proc/kcore 2>/dev/null && echo unmasked
		(echo h >/proc/1/root/proc/sysrq-trigger) 2>/dev/null && echo sysrq-via-root
		echo done'
	run_both
	[ "$rt_out" = "done" ]
}

# CVE-2021-30465 and its kin: a mount destination that is (or goes through) a symlink
# in the image is resolved inside the root, never on the host.
@test "escapes: mount destinations through symlinks stay inside the root (differential)" {
	local r="$TEST_TMP/rootfs" target="$TEST_TMP/host-target"
	cp -a "$ROOTFS" "$r"
	mkdir -p "$target" "$r/inner"
	ln -s "$target" "$r/abs-link"             # absolute: means /tmp/... inside the root
	ln -s ../../../../../../../.. "$r/up-link" # climbs: clamped at the root
	ln -s inner "$r/rel-link"
	config '.root.path = $r | .root.readonly = false | .mounts += [
		{"destination": "/abs-link", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
		{"destination": "/up-link/escaped", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
		{"destination": "/rel-link/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]' --arg r "$r"
	cmd 'grep -c " tmpfs tmpfs " /proc/self/mountinfo >/dev/null; echo x >/abs-link/probe 2>/dev/null; echo y >/escaped/probe 2>/dev/null; ls -d /inner/sub /escaped 2>/dev/null; echo done'
	run_both
	[ "$(echo "$rt_out" | tail -n1)" = "done" ]
	# Nothing reached the host outside the root.
	[ -z "$(ls -A "$target")" ]
	[ ! -e /escaped ]
	! grep -q "$target" /proc/self/mountinfo || false
}

# CVE-2021-30465 itself, and the mount-target races fixed in later runc releases: while
# the runtime sets up, another process sharing the rootfs (on the host here, a second
# container on the same volume in the wild) swaps a mount destination between a
# directory and a symlink to a host path. The link names the rootfs's own /escaped as
# a host path: a runtime that follows it on the host mounts onto <rootfs>/escaped/y,
# which the container then sees at /escaped/y; resolved inside the root it means
# <rootfs>/<rootfs>/escaped instead. Many mounts per container, many containers: each
# run either fails (the swap was caught: fail closed) or has every mount inside.
@test "escapes: a mount destination swapped for a symlink during set-up never redirects the mount" {
	local r="$TEST_TMP/rootfs" n mounts='[]' i
	cp -a "$ROOTFS" "$r"
	mkdir -p "$r/mnt" "$r/escaped"
	for i in $(seq 30); do
		mounts="$(jq -c --arg i "$i" '. + [{"destination": "/mnt/x/y", "type": "tmpfs", "source": "tmpfs", "options": ["size=\($i)k"]}]' <<<"$mounts")"
	done
	config '.root.path = $r | .root.readonly = false | .mounts += $m' --arg r "$r" --argjson m "$mounts"
	cmd 'if grep -q " /escaped[/ ]" /proc/self/mountinfo; then echo ESCAPED; fi; echo done'
	# The swapper: renameat2(RENAME_EXCHANGE) in a tight loop, so that x is a directory
	# and a link to the host path by turns (never absent), microseconds apart.
	mkdir -p "$r/mnt/x/y" "$r/escaped/y"
	ln -s "$r/escaped" "$r/mnt/xalt"
	python3 - "$r/mnt" <<-'PY' &
		import ctypes, os, sys
		libc = ctypes.CDLL(None, use_errno=True)
		os.chdir(sys.argv[1])
		while True:
		    libc.renameat2(-100, b"x", -100, b"xalt", 2)  # AT_FDCWD, RENAME_EXCHANGE
	PY
	local racer=$!
	local ok=0 refused=0 escaped=0 id out
	for n in $(seq 40); do
		id="$(new_id)"
		if out="$("$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id" </dev/null 2>&1)"; then
			ok=$((ok + 1))
		else
			refused=$((refused + 1))
			"$RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
		fi
		case "$out" in *ESCAPED*) escaped=$((escaped + 1)) ;; esac
	done
	kill "$racer"
	wait "$racer" 2>/dev/null || true
	echo "# runs: $ok completed, $refused refused, $escaped escaped" >&3
	[ "$escaped" = 0 ]
	# Nothing outside the container's namespace was mounted on.
	! grep -q "$r" /proc/self/mountinfo || false
	# And the runtime still runs containers (refusals are the race caught, not a wedge).
	rm -rf "$r/mnt/x" "$r/mnt/xalt"
	cmd 'echo done'
	run_both
	[ "$rt_out" = "done" ]
}

# The container attacks `exec` while it is set up: the process exec forks into the
# container's pid namespace runs the runtime's code until its execve. A watcher in the
# container (exec_attacker.c, the container's init) tries every new process at once.
attacker_container() {
	local r="$TEST_TMP/rootfs"
	cp -a "$ROOTFS" "$r"
	gcc -static -O2 -o "$r/exec_attacker" "$BATS_TEST_DIRNAME/exec_attacker.c"
	config '.root.path = $r | .root.readonly = false | .process.terminal = false | .process.args = ["/exec_attacker", $mode, $secs]' \
		--arg r "$r" --arg mode "$1" --arg secs "$2"
	ATTACKER="$(new_id)"
	rt run --detach --bundle "$BUNDLE" "$ATTACKER" </dev/null >"$TEST_TMP/attacker.out" 2>&1
	wait_for 10 grep -q ready "$TEST_TMP/attacker.out"
}

@test "escapes: a container that ptraces and opens /proc/PID/exe of every new process never reaches the runtime during exec" {
	attacker_container ptrace 6
	local i status
	# The container may stop or kill its own processes (a traced program can die of
	# it, under runc too): exec's status is not the point, reaching the runtime is.
	for i in $(seq 30); do
		status=0
		timeout 20 "$RUNTIME" --root "$ROOT" exec "$ATTACKER" /bin/true </dev/null >/dev/null 2>&1 || status=$?
		[ "$status" != 124 ]
	done
	wait_for 20 grep -q scans "$TEST_TMP/attacker.out"
	echo "# attacker: $(tr '\n' ' ' <"$TEST_TMP/attacker.out")" >&3
	grep -q "^scans [1-9]" "$TEST_TMP/attacker.out"
	! grep -q RUNTIME "$TEST_TMP/attacker.out" || false
	rt delete --force "$ATTACKER"
}

@test "escapes: a container that SIGKILLs every new process cannot wedge exec or leave anything behind" {
	attacker_container kill 8
	local i status hung=0
	for i in $(seq 20); do
		status=0
		timeout 20 "$RUNTIME" --root "$ROOT" exec "$ATTACKER" /bin/sleep 1 </dev/null >/dev/null 2>&1 || status=$?
		[ "$status" != 124 ] || hung=$((hung + 1))
	done
	[ "$hung" = 0 ]
	# The runtime is unharmed: its root lists the container, and it still execs once
	# the attacker is gone.
	wait_for 20 grep -q scans "$TEST_TMP/attacker.out"
	rt delete --force "$ATTACKER"
	[ -z "$(rt list --quiet)" ]
	! pgrep -f -- "--root $ROOT" >/dev/null || false
	cmd 'echo done'
	run_both
	[ "$rt_out" = done ]
}
