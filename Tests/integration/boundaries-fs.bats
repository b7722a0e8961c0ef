#!/usr/bin/env bats
# Host files handed to a sandbox and who can read a running one: /input and /output
# are resolved once, refusing symbolic links, and used through the descriptor; /output
# is bounded (filesystem.outputSize) and copied back as the directory's owner; bind
# sources under a directory only root can enter work with a user namespace; the
# ephemeral root of a running sandbox is closed to other host users.

load helpers

setup() {
	common_setup
	OUT="$TEST_TMP/out"
	mkdir -p "$OUT"
}

teardown() {
	common_teardown
}

# agent ARGS... -- CMD...: `agent run` under this test's root, summary as JSON.
agent() {
	"$RUNTIME" --root "$ROOT" agent run --rootfs "$ROOTFS" --summary json "$@"
}

# A host directory a sandbox must never own: root's, with a file of root's.
host_dir() {
	HOSTDIR="$TEST_TMP/hostdir"
	mkdir -p "$HOSTDIR"
	echo precious >"$HOSTDIR/file"
	chmod 0755 "$HOSTDIR"
	chmod 0644 "$HOSTDIR/file"
	HOSTDIR_BEFORE="$(stat -c '%u:%g %a' "$HOSTDIR" "$HOSTDIR/file"; ls -A "$HOSTDIR")"
}

@test "boundaries-fs: a symlink a sandbox planted in /output cannot hand a host directory to the next run" {
	host_dir
	# The first run plants the links; they come back as links, owned by OUT's owner.
	run --separate-stderr agent --output "$OUT" -- sh -c "ln -s '$HOSTDIR' /output/next && ln -s / /output/root"
	[ "$status" -eq 0 ]
	[ -L "$OUT/next" ]
	[ "$(stat -c %u "$OUT/next")" = "$(stat -c %u "$OUT")" ]
	# The next run is given the link (or a path through it): refused, one line naming it.
	for out in "$OUT/next" "$OUT/next/sub" "$OUT/root/$HOSTDIR"; do
		run --separate-stderr agent --output "$out" -- sh -c 'echo pwned >/output/file; touch /output/new'
		[ "$status" -ne 0 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "safehouse: --output: "*" is a symbolic link -> "*"symbolic links are not followed)" ]]
	done
	[ "$(stat -c '%u:%g %a' "$HOSTDIR" "$HOSTDIR/file"; ls -A "$HOSTDIR")" = "$HOSTDIR_BEFORE" ]
	[ "$(cat "$HOSTDIR/file")" = precious ]
	[ ! -e "$HOSTDIR/sub" ]
	[ -z "$(root_entries)" ]
}

@test "boundaries-fs: /input through a symlink is refused, and a missing or non-directory zone is named" {
	host_dir
	ln -s "$HOSTDIR" "$TEST_TMP/in-link"
	run --separate-stderr agent --input "$TEST_TMP/in-link" -- cat /input/file
	[ "$status" -ne 0 ]
	[ "$stderr" = "safehouse: --input: $TEST_TMP/in-link is a symbolic link -> $HOSTDIR: give the real directory (symbolic links are not followed)" ]
	[ "$output" = "" ]
	run --separate-stderr agent --output "$HOSTDIR/file" -- true
	[ "$status" -ne 0 ]
	[ "$stderr" = "safehouse: --output: $HOSTDIR/file is not a directory" ]
	run --separate-stderr agent --input "$TEST_TMP/none/deeper" -- true
	[ "$status" -ne 0 ]
	[ "$stderr" = "safehouse: --input: $TEST_TMP/none/deeper is not a directory ($TEST_TMP/none does not exist)" ]
	[ ! -e "$TEST_TMP/none" ]
	# A missing output directory is made only once everything else was checked.
	run --separate-stderr agent --id "bad id" --output "$TEST_TMP/made" -- true
	[ "$status" -ne 0 ]
	[[ "$stderr" == "safehouse: --id: "* ]]
	run --separate-stderr agent --output "$TEST_TMP/made"
	[ "$status" -ne 0 ]
	[ ! -e "$TEST_TMP/made" ]
}

@test "boundaries-fs: what the sandbox writes lands in /output owned by the directory's owner; the user's files are never lost" {
	chown 1234:1234 "$OUT"
	echo mine >"$OUT/private"
	chmod 0600 "$OUT/private"
	echo shared >"$OUT/shared"
	chmod 0666 "$OUT/shared"
	mkdir "$OUT/keepdir"
	echo kept >"$OUT/keepdir/k"
	mkdir "$OUT/empty"
	run --separate-stderr agent --output "$OUT" -- sh -c '
		mkdir -p /output/d/e && echo deep >/output/d/e/f && chmod 4755 /output/d/e/f
		echo changed >/output/shared
		cat /output/private 2>/dev/null && echo read-private
		rm -f /output/private; echo forged >/output/private
		rm -rf /output/keepdir
		rmdir /output/empty && mkdir /output/empty && echo planted >/output/empty/p
		ln -s /etc/passwd /output/link
		dd if=/dev/urandom of=/output/random bs=1k count=3000 2>/dev/null; md5sum /output/random | cut -d" " -f1
		truncate -s 64G /output/sparse; echo tail >>/output/sparse
		echo done'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = done ]
	[ "$(cat "$OUT/d/e/f")" = deep ]
	[ "$(stat -c %u:%g "$OUT/d" "$OUT/d/e" "$OUT/d/e/f" "$OUT/link" "$OUT/shared" | sort -u)" = "1234:1234" ]
	# No set-id bit comes back.
	[ "$(stat -c %a "$OUT/d/e/f")" = 755 ]
	# A file the sandbox could write is replaced; one it could not, and deletions, are kept.
	[ "$(cat "$OUT/shared")" = changed ]
	[ "$(cat "$OUT/private")" = mine ]
	[ "$(cat "$OUT/keepdir/k")" = kept ]
	[[ "$stderr" == *"/output/private: the sandbox could not write the directory's file: kept, not replaced"* ]]
	# A directory of the user's the sandbox could not write, deleted and made again:
	# kept as it was.
	[ -z "$(ls -A "$OUT/empty")" ]
	[[ "$stderr" == *"/output/empty: the sandbox replaced a directory it could not write: kept, its new contents not copied"* ]]
	[ "$(readlink "$OUT/link")" = /etc/passwd ]
	# Copied byte for byte; a sparse file stays sparse (its holes would fill the disk).
	[ "$(md5sum "$OUT/random" | cut -d" " -f1)" = "${lines[0]}" ]
	[ "$(stat -c %s "$OUT/sparse")" = $(((64 << 30) + 5)) ]
	[ "$(stat -c %b "$OUT/sparse")" -lt 1024 ]
	[ "$(tail -c 5 "$OUT/sparse")" = tail ]
	# Nothing of the run is left mounted.
	! grep -q "output-zone" /proc/self/mountinfo
}

@test "boundaries-fs: a sandbox running as a user other than its root writes /output too" {
	printf 'user:\n  uid: 1000\n  gid: 1000\n' >"$TEST_TMP/p.yaml"
	run --separate-stderr agent --policy "$TEST_TMP/p.yaml" --output "$OUT" -- sh -c 'id -u; echo u >/output/u && echo wrote'
	[ "$status" -eq 0 ]
	[ "$output" = "1000
wrote" ]
	[ "$(cat "$OUT/u")" = u ]
	[ "$(stat -c %u "$OUT/u")" = 0 ]
}

@test "boundaries-fs: /output is bounded by filesystem.outputSize and the summary names the limit" {
	cat >"$TEST_TMP/p.yaml" <<-'YAML'
		filesystem:
		  outputSize: 8Mi
		limits:
		  disk: 64Mi
	YAML
	echo before >"$OUT/old"
	run --separate-stderr agent --policy "$TEST_TMP/p.yaml" --output "$OUT" -- sh -c '
		echo small >/output/small
		dd if=/dev/zero of=/output/big bs=1M count=32 2>/dev/null; echo "dd=$?"'
	[ "$status" -eq 0 ]
	[ "$output" = "dd=1" ]
	[ "$(stat -c %s "$OUT/big")" -le $((8 << 20)) ]
	[ "$(cat "$OUT/small")" = small ]
	[ "$(cat "$OUT/old")" = before ]
	[[ "$stderr" == *'"limitsHit":["output (filesystem.outputSize: /output'"'"'s 8Mi filled up)"]'* ]]
}

@test "boundaries-fs: without filesystem.outputSize, /output is bounded by the disk limit" {
	cat >"$TEST_TMP/p.yaml" <<-'YAML'
		limits:
		  disk: 8Mi
	YAML
	run --separate-stderr agent --policy "$TEST_TMP/p.yaml" --output "$OUT" -- sh -c '
		dd if=/dev/zero of=/output/big bs=1M count=32 2>/dev/null; echo "dd=$?"'
	[ "$status" -eq 0 ]
	[ "$output" = "dd=1" ]
	[ "$(stat -c %s "$OUT/big")" -le $((8 << 20)) ]
	[[ "$stderr" == *"output (filesystem.outputSize: /output's 8Mi filled up)"* ]]
	run --separate-stderr agent --policy "$TEST_TMP/p.yaml" --output "$OUT" -- sh -c 'echo x >/output/x'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *'"limitsHit":[]'* ]]
}

@test "boundaries-fs: /output's files count against the memory limit, and the summary says so when it is hit first" {
	cat >"$TEST_TMP/p.yaml" <<-'YAML'
		filesystem:
		  outputSize: 256Mi
		limits:
		  memory: 64Mi
	YAML
	run --separate-stderr agent --policy "$TEST_TMP/p.yaml" --output "$OUT" -- sh -c '
		dd if=/dev/zero of=/output/big bs=1M count=200 2>/dev/null; echo "dd=$?"'
	[ "$(stat -c %s "$OUT/big")" -le $((64 << 20)) ]
	[[ "$stderr" == *'"memory (1 OOM kill at 64Mi)"'* ]]
	[[ "$stderr" == *"output (filesystem.outputSize: /output held "*" of 256Mi when the memory limit killed the writer"* ]]
}

@test "boundaries-fs: filesystem.outputSize is checked" {
	printf 'filesystem:\n  outputSize: lots\n' >"$TEST_TMP/p.yaml"
	run --separate-stderr agent --policy "$TEST_TMP/p.yaml" --output "$OUT" -- true
	[ "$status" -ne 0 ]
	[ "$stderr" = "safehouse: policy $TEST_TMP/p.yaml: filesystem.outputSize: not a size (use 512Mi, 1.5Gi, 100M or a number of bytes)" ]
	printf 'filesystem:\n  outputSize: 4Ki\n' >"$TEST_TMP/p.yaml"
	run --separate-stderr agent --policy "$TEST_TMP/p.yaml" --output "$OUT" -- true
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"filesystem.outputSize: below the minimum of 1Mi" ]]
}

@test "boundaries-fs: another host user cannot read a running sandbox's files" {
	local id="bfs-$$-read" dir
	"$RUNTIME" --root "$ROOT" agent run --rootfs "$ROOTFS" --summary none --id "$id" -- \
		sh -c 'echo sk-secret >/root/key; echo sk-secret >/scratch/key; touch /scratch/ready; sleep 30' 2>"$TEST_TMP/agent.err" &
	local run_pid=$!
	for _ in $(seq 100); do
		dir="$(ls -d /run/safehouse-ephemeral/"$id"-* 2>/dev/null || true)"
		[ -n "$dir" ] && [ -e "$dir/upper/root/key" ] && break
		sleep 0.1
	done
	[ -e "$dir/upper/root/key" ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups cat "$dir/upper/root/key"
	[ "$status" -ne 0 ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups cat "$dir/merged/root/key"
	[ "$status" -ne 0 ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups ls "$dir/merged/"
	[ "$status" -ne 0 ]
	# The sandbox itself still works from inside.
	run "$RUNTIME" --root "$ROOT" exec "$id" cat /root/key
	[ "$output" = sk-secret ]
	"$RUNTIME" --root "$ROOT" kill "$id" KILL
	# The run ends once its sandbox is gone; if it does not, say where it stands.
	for _ in $(seq 300); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$run_pid" 2>/dev/null; then
		echo "# agent run still running 30 s after the kill:" >&2
		ps -o pid,ppid,stat,wchan:20,args --ppid "$run_pid" -p "$run_pid" >&2 || true
		cat "$TEST_TMP/agent.err" >&2
		kill -KILL "$run_pid"
		return 1
	fi
	wait "$run_pid" || true
}

@test "boundaries-fs: --input and --output under a directory only root can enter" {
	local private="$TEST_TMP/private"
	mkdir -p "$private/in" "$private/out"
	chmod 0700 "$private"
	echo hello >"$private/in/a"
	run --separate-stderr agent --id "bfs-$$-p" --input "$private/in" --output "$private/out" -- sh -c 'cat /input/a; echo made >/output/m'
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ "$(cat "$private/out/m")" = made ]
	# Nothing of the run is left: no zone mounted, no bundle, the user's files all there.
	! grep -q "/run/safehouse-agent/bfs-$$-p/" /proc/self/mountinfo
	[ ! -e "/run/safehouse-agent/bfs-$$-p" ]
	[ "$(cat "$private/in/a")" = hello ]
}

@test "boundaries-fs: --backend gvisor: --input and --output under a directory only root can enter" {
	command -v runsc >/dev/null || skip "runsc is not installed"
	local private="$TEST_TMP/private"
	mkdir -p "$private/in" "$private/out"
	chmod 0700 "$private"
	echo hello >"$private/in/a"
	run --separate-stderr agent --backend gvisor --id "bfs-$$-g" --input "$private/in" --output "$private/out" -- sh -c 'cat /input/a; echo made >/output/m'
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ "$(cat "$private/out/m")" = made ]
	! grep -q "/run/safehouse-agent/bfs-$$-g/" /proc/self/mountinfo
	[ ! -e "/run/safehouse-agent/bfs-$$-g" ]
	[ "$(cat "$private/in/a")" = hello ]
}

@test "boundaries-fs: run with a user namespace mounts a bind source under a directory only root can enter" {
	local private="$TEST_TMP/private"
	mkdir -p "$private/data"
	chmod 0700 "$private"
	echo hello >"$private/data/f"
	echo one >"$private/file"
	config '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .mounts |= map(select(.type != "cgroup")) | .mounts += [{"destination": "/home", "type": "bind", "source": $d, "options": ["rbind", "ro"]}, {"destination": "/etc/hostname", "type": "bind", "source": $f, "options": ["bind", "ro"]}]' --arg d "$private/data" --arg f "$private/file"
	# Mount points that exist in the image hack/mkrootfs builds: the container's root is
	# unmapped on the host, so it could not make them.
	cmd 'cat /home/f /etc/hostname; touch /home/x 2>/dev/null && echo writable; grep " /home " /proc/self/mountinfo | grep -q " ro," && echo ro'
	local id
	id="$(new_id)"
	run rt run --bundle "$BUNDLE" "$id" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "hello
one
ro" ]
	# gvisor: runsc's gofer got the sources through the runtime's clones, which go
	# with the container.
	! grep -q "/run/safehouse-gvisor-binds/$id-" /proc/self/mountinfo
	[ -z "$(ls -d /run/safehouse-gvisor-binds/"$id"-* 2>/dev/null)" ]
	# A source that does not exist still fails in one line naming the mount and the
	# source (not "send: connection reset by peer" when the init fails first).
	config '.mounts += [{"destination": "/home", "type": "bind", "source": "/nonexistent-bind-source", "options": ["rbind"]}]'
	run rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "safehouse: mount mounts["*"] /home: stat /nonexistent-bind-source: no such file or directory" ]]
}
