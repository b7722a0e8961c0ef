#!/usr/bin/env bats
# Podman (Debian's 4.3, with conmon) drives $RUNTIME as an operator would configure it:
# the runtime entry hack/podman/containers.conf.sh writes (the default runtime there),
# `--runtime NAME` or `--runtime PATH`. Every engine operation is proved by what the
# container does or what the runtime itself reports, and the same tests pass with
# RUNTIME=runc (the README's matrix).
#
# Each test gets a private Podman: storage (vfs), runroot, tmpdir and network config
# under its temp dir, and the containers.conf hack/podman/containers.conf.sh generates
# (hack/podman/containers.conf plus a runtime entry naming $RUNTIME by its path, named
# after its file: "safehouse", or "runc" with RUNTIME=runc). The image is the busybox
# rootfs, imported (no registry). Containers have no network (netns "none" in that file). Podman runs the runtime through a
# wrapper of the same name ($PM_RUNTIME) that gives it the test's own root, $ROOT under
# its temp dir, not the host's default root (/run/safehouse, /run/runc): Podman has no
# setting for a runtime's root, and the cleanup process conmon starts does not carry
# `--runtime-flag`. common_teardown deletes what is left in $ROOT, runsc's state for
# the gvisor backend included, so nothing outlives the temp dir; teardown also removes
# every container the test made through Podman, with its cgroups.
# Podman's own host-wide leftovers (the image copy's blob-info cache under
# /var/lib/containers, the /libpod_parent cgroups) go after the file if it made them.

load helpers

IMAGE=localhost/safehouse-busybox:latest
PTY_RUN="$BATS_TEST_DIRNAME/pty_run.py"

setup_file() {
	export PM_MADE_VARLIB=0 PM_MADE_CGPARENT=0 PM_MADE_CNI_CHAINS=0
	[ -e /var/lib/containers ] || PM_MADE_VARLIB=1
	[ -e /sys/fs/cgroup/memory/libpod_parent ] || PM_MADE_CGPARENT=1
	# The chains CNI's firewall and portmap plugins make once per host (pm_bridge).
	iptables -t nat -n -L CNI-HOSTPORT-DNAT >/dev/null 2>&1 || PM_MADE_CNI_CHAINS=1
}

teardown_file() {
	if [ "${PM_MADE_VARLIB:-0}" = 1 ]; then
		rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
		rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null || true
	fi
	if [ "${PM_MADE_CNI_CHAINS:-0}" = 1 ]; then cni_chains_gone; fi
	if [ "${PM_MADE_CGPARENT:-0}" = 1 ]; then
		# Only empty ones go (rmdir): a Podman started meanwhile keeps its own.
		find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path '*/libpod_parent*' 2>/dev/null |
			sort -r | while read -r d; do rmdir "$d" 2>/dev/null || true; done
	fi
}

setup() {
	command -v podman >/dev/null && command -v conmon >/dev/null ||
		skip "podman or conmon not installed (hack/setup installs them)"
	common_setup
	# Podman needs an absolute path, in its config and for --runtime.
	RUNTIME="$(realpath -s "$RUNTIME")"
	PM="$TEST_TMP/podman"
	mkdir -p "$PM"
	RT_NAME="$(basename "$RUNTIME")"
	mkdir -p "$PM/bin"
	PM_RUNTIME="$PM/bin/$RT_NAME"
	printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$RUNTIME" "$ROOT" >"$PM_RUNTIME"
	chmod 0755 "$PM_RUNTIME"
	# What an operator generates: the shipped file with the runtime under test (the
	# wrapper) as the default and the only [engine.runtimes] entry, by its path.
	"$REPO/hack/podman/containers.conf.sh" --name "$RT_NAME" "$PM_RUNTIME" >"$PM/containers.conf"
	# containers.conf and storage.conf come only from here (not /etc/containers or
	# /usr/share/containers), and the flags below keep every path private.
	printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' "$PM/run" "$PM/storage" >"$PM/storage.conf"
	export CONTAINERS_CONF="$PM/containers.conf" CONTAINERS_STORAGE_CONF="$PM/storage.conf"
	PODMAN=(podman --root "$PM/storage" --runroot "$PM/run" --tmpdir "$PM/tmp"
		--storage-driver vfs --network-config-dir "$PM/net")
	tar -C "$ROOTFS" -c . | pm import - "$IMAGE" >/dev/null 2>"$PM/import.log" || {
		cat "$PM/import.log" >&2
		return 1
	}
}

teardown() {
	if [ -n "${PM:-}" ] && [ -d "$PM" ]; then
		local ids id p cmd cg
		ids="$(pm ps -aq --no-trunc 2>/dev/null || true)"
		pm unpause --all >/dev/null 2>&1 || true # Podman 4.3 refuses rm -f of a paused one
		pm pod rm -f -t 0 --all >/dev/null 2>&1 || true
		pm rm -f -t 0 --all >/dev/null 2>&1 || true
		for id in $ids; do
			rt delete --force "$id" >/dev/null 2>&1 || true
			# Podman's cgroupfs layout: /libpod_parent/libpod-ID in each hierarchy.
			find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -name "libpod-$id" 2>/dev/null |
				while read -r cg; do
					xargs -r kill -9 <"$cg/cgroup.procs" 2>/dev/null || true
					rmdir "$cg" 2>/dev/null || { sleep 0.1; rmdir "$cg" 2>/dev/null; } || true
				done
		done
		# A conmon (or podman) still holding this test's directories.
		for p in /proc/[0-9]*; do
			cmd="$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" || continue
			if [[ "$cmd" == *"$PM/"* ]]; then kill -9 "${p#/proc/}" 2>/dev/null || true; fi
		done
	fi
	# A test's network namespaces (pm_world) and bridge (pm_bridge), whether it passed or not.
	if [ -n "${PM_W:-}" ]; then pm_world_gone; fi
	if [ -n "${PM_BR:-}" ]; then pm_bridge_gone; fi
	common_teardown
}

# pm ARGS...: this test's private Podman.
pm() { "${PODMAN[@]}" "$@"; }


# run_d ARGS...: `podman run -d ARGS`, prints the container's full id.
run_d() { pm run -d "$@"; }

# state ID: Podman's view, "status exit-code".
state() { pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1"; }

# rt_status ID: the runtime's own view of the container.
rt_status() { rt state "$1" 2>/dev/null | jq -r .status; }

# cgdir PID CONTROLLER: the v1 cgroup directory of PID in CONTROLLER.
cgdir() {
	local p
	p="$(awk -F: -v c="$2" '$2 == c { print $3 }' "/proc/$1/cgroup")"
	[ -n "$p" ] && echo "/sys/fs/cgroup/$2$p"
}

logs_have() { pm logs "$1" 2>/dev/null | grep -qx "$2"; }

@test "podman: run: output, stderr and exit code propagate; the host's ulimits apply" {
	run --separate-stderr pm run --rm "$IMAGE" sh -c 'echo out; echo err >&2; ulimit -Hn; ulimit -Hu; exit 7'
	[ "$status" = 7 ]
	[ "${lines[0]}" = out ]
	[ "$stderr" = err ]
	# default_ulimits from hack/podman/containers.conf
	[ "${lines[1]}" = 20000 ]
	[ "${lines[2]}" = 32768 ]
	run pm run --rm "$IMAGE" true
	[ "$status" = 0 ]
	[ -z "$(pm ps -aq)" ] # --rm removed it
}

@test "podman: a missing or non-executable command is exit 127 or 126 (the runtime's words)" {
	local a
	for a in /no/such/binary nosuchcmd; do
		run -127 pm run --rm "$IMAGE" "$a"
		[[ "$output" == *"$a"* ]]
	done
	for a in /etc/passwd /etc; do
		run pm run --rm "$IMAGE" "$a"
		[ "$status" = 126 ]
		[[ "$output" == *"$a"*"permission denied"* ]]
	done
}

@test "podman: --runtime PATH, --runtime NAME and the default all run on the runtime under test" {
	local by_path by_name by_default id
	by_path="$(pm --runtime "$PM_RUNTIME" run -d "$IMAGE" sleep 300)"
	by_name="$(pm --runtime "$RT_NAME" run -d "$IMAGE" sleep 300)"
	by_default="$(run_d "$IMAGE" sleep 300)"
	[ "$(pm inspect -f '{{.OCIRuntime}}' "$by_path")" = "$PM_RUNTIME" ]
	[ "$(pm inspect -f '{{.OCIRuntime}}' "$by_name")" = "$RT_NAME" ]
	[ "$(pm inspect -f '{{.OCIRuntime}}' "$by_default")" = "$RT_NAME" ]
	for id in "$by_path" "$by_name" "$by_default"; do
		# The runtime itself knows the container, with the pid Podman reports.
		[ "$(pm inspect -f '{{.State.Status}}' "$id")" = running ]
		[ "$(rt_status "$id")" = running ]
		[ "$(rt state "$id" | jq -r .pid)" = "$(pm inspect -f '{{.State.Pid}}' "$id")" ]
		# Later commands find the container's runtime without --runtime.
		run pm exec "$id" echo exec-ok
		[ "$output" = exec-ok ]
	done
}

@test "podman: --runtime PATH needs no runtime entry: the shipped containers.conf alone (no /usr/local/bin)" {
	# The shipped file names no runtime binary, so nothing in it can point elsewhere.
	! grep -Eq '^(runtime *=|\[engine\.runtimes\])|/usr/local/bin' "$REPO/hack/podman/containers.conf" || false
	export CONTAINERS_CONF="$REPO/hack/podman/containers.conf"
	# The default runtime is Podman's own again (crun or runc): import works with it.
	tar -C "$ROOTFS" -c . | pm import - localhost/by-path >/dev/null
	local id
	id="$(pm --runtime "$PM_RUNTIME" run -d localhost/by-path sh -c 'ulimit -Hn; sleep 300')"
	[ "$(pm inspect -f '{{.OCIRuntime}}' "$id")" = "$PM_RUNTIME" ]
	# The runtime at that path made it: its own state has Podman's pid.
	[ "$(rt_status "$id")" = running ]
	[ "$(rt state "$id" | jq -r .pid)" = "$(pm inspect -f '{{.State.Pid}}' "$id")" ]
	# The file's ulimits apply without an entry too.
	wait_for 5 logs_have "$id" 20000
	# Later commands find the runtime by the path Podman recorded, without --runtime.
	run pm exec "$id" echo exec-ok
	[ "$output" = exec-ok ]
	pm stop -t 1 "$id" >/dev/null
	[ "$(state "$id")" = "exited 137" ]
	pm rm "$id" >/dev/null
	run rt state "$id"
	[ "$status" != 0 ]
}

@test "podman: hack/podman/containers.conf.sh names the runtime by its absolute path; import and run use it" {
	local conf="$TEST_TMP/generated.conf"
	# A relative path becomes absolute; the link itself is named, not its target.
	ln -s "$PM_RUNTIME" "$PM/bin/safehouse-link"
	(cd "$PM" && "$REPO/hack/podman/containers.conf.sh" bin/safehouse-link) >"$conf"
	run "$REPO/.venv/bin/python" -c '
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
e = c["engine"]
print(e["runtime"], e["runtimes"][e["runtime"]], "safehouse-link" in e["runtime_supports_json"], c["containers"]["default_ulimits"])
' "$conf"
	[ "$status" = 0 ]
	[ "$output" = "safehouse-link ['$PM/bin/safehouse-link'] True ['nofile=20000:20000', 'nproc=32768:32768']" ]
	! grep -q /usr/local/bin "$conf" || false
	export CONTAINERS_CONF="$conf"
	# import checks that the default runtime exists; run, exec and rm use it.
	tar -C "$ROOTFS" -c . | pm import - localhost/generated >/dev/null
	run --separate-stderr pm run --rm localhost/generated sh -c 'echo ran; ulimit -Hu'
	[ "$status" = 0 ]
	[ "$output" = "$(printf 'ran\n32768')" ]
	local id
	id="$(run_d localhost/generated sleep 300)"
	[ "$(pm inspect -f '{{.OCIRuntime}}' "$id")" = safehouse-link ]
	[ "$(rt state "$id" | jq -r .pid)" = "$(pm inspect -f '{{.State.Pid}}' "$id")" ]
	run pm info --format json
	[ "$(echo "$output" | jq -r .host.ociRuntime.path)" = "$PM/bin/safehouse-link" ]
	pm rm -f -t 0 "$id" >/dev/null
	# --drop-in: only the runtime's lines, for a host's containers.conf.d.
	run "$REPO/.venv/bin/python" -c '
import sys, tomllib
c = tomllib.loads(sys.stdin.read())
print(sorted(c), sorted(c["engine"]), c["engine"]["runtimes"])
' < <("$REPO/hack/podman/containers.conf.sh" --drop-in --name safehouse "$PM_RUNTIME")
	[ "$output" = "['engine'] ['runtime', 'runtime_supports_json', 'runtimes'] {'safehouse': ['$PM_RUNTIME']}" ]
	# A path that is not an executable is refused, naming it.
	run "$REPO/hack/podman/containers.conf.sh" "$TEST_TMP/no-such-runtime"
	[ "$status" = 1 ]
	[[ "$output" == *"$TEST_TMP/no-such-runtime is not an executable file"* ]]
}

@test "podman: exec into a detached container: output, exit code, user, cwd, env, -d, errors" {
	local id
	id="$(run_d "$IMAGE" sleep 300)"
	run pm exec "$id" sh -c 'echo in; exit 5'
	[ "$status" = 5 ]
	[ "$output" = in ]
	run pm exec -u 1000:1000 -w /tmp -e X=y "$id" sh -c 'id -u; id -g; pwd; echo $X'
	[ "$status" = 0 ]
	[ "$output" = "$(printf '1000\n1000\n/tmp\ny')" ]
	pm exec -d "$id" sleep 200
	wait_for 5 sh -c "${PODMAN[*]} exec $id ps | grep -q 'sleep 200'"
	run -127 pm exec "$id" /no/such
	run -127 pm exec "$id" nosuchcmd
	run pm exec "$id" /etc/passwd
	[ "$status" = 126 ]
}

@test "podman: exec -it runs on a real pseudo-terminal (tty, window size, line discipline, input)" {
	local id
	id="$(run_d "$IMAGE" sleep 300)"
	run python3 "$PTY_RUN" --size 31x97 -- "${PODMAN[@]}" exec -it "$id" sh -c 'tty; stty size; stty -a; exit 3'
	echo "$output" >&2
	[ "$status" = 3 ]
	printf '%s\n' "${lines[@]}" | tr -d '\0' | grep -Eqx '/dev/pts/[0-9]+'
	printf '%s\n' "${lines[@]}" | grep -qx '31 97' # the size of the terminal podman runs on
	[[ "$output" == *" icanon "* ]] && [[ "$output" == *" echo "* ]]
	# Typed input reaches an interactive shell; its exit code comes back.
	run python3 "$PTY_RUN" --size 25x70 --input $'stty size; exit 4\n' -- "${PODMAN[@]}" exec -it "$id" sh
	echo "$output" >&2
	[ "$status" = 4 ]
	printf '%s\n' "${lines[@]}" | grep -qx '25 70'
}

@test "podman: run -it runs on a real pseudo-terminal" {
	run python3 "$PTY_RUN" --size 12x40 -- "${PODMAN[@]}" run --rm -it "$IMAGE" sh -c 'tty; stty size; exit 6'
	echo "$output" >&2
	[ "$status" = 6 ]
	printf '%s\n' "${lines[@]}" | tr -d '\0' | grep -Eqx '/dev/pts/[0-9]+'
	printf '%s\n' "${lines[@]}" | grep -qx '12 40'
}

@test "podman: stop: SIGTERM reaches the process and its exit code is kept; else KILL after the timeout; start again" {
	local id deaf t0
	id="$(run_d "$IMAGE" sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done')"
	wait_for 5 logs_have "$id" ready
	t0=$SECONDS
	pm stop -t 10 "$id" >/dev/null
	[ $((SECONDS - t0)) -lt 5 ]
	[ "$(state "$id")" = "exited 42" ]
	[ "$(rt_status "$id")" != running ]
	# PID 1 without a handler ignores SIGTERM: KILL after the timeout.
	deaf="$(run_d "$IMAGE" sleep 300)"
	pm stop -t 1 "$deaf" >/dev/null
	[ "$(state "$deaf")" = "exited 137" ]
	# A stopped container starts again (a new create/start under the runtime).
	pm start "$id" >/dev/null
	[ "$(pm inspect -f '{{.State.Status}}' "$id")" = running ]
	[ "$(rt_status "$id")" = running ]
}

@test "podman: stop of a container in the host's pid namespace signals every process (kill --all)" {
	local id pid cg procs p
	id="$(run_d --pid host "$IMAGE" sh -c 'sleep 300 & sleep 300 & wait')"
	pid="$(pm inspect -f '{{.State.Pid}}' "$id")"
	cg="$(cgdir "$pid" pids)"
	wait_for 5 sh -c "[ \$(wc -l <$cg/cgroup.procs) = 3 ]"
	procs="$(cat "$cg/cgroup.procs")"
	pm stop -t 5 "$id" >/dev/null
	[ "$(state "$id")" = "exited 143" ]
	for p in $procs; do ! kill -0 "$p" 2>/dev/null; done
}

@test "podman: kill delivers the signal; the default KILL ends the container (137)" {
	local id
	id="$(run_d "$IMAGE" sh -c 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done')"
	wait_for 5 logs_have "$id" ready
	pm kill -s USR1 "$id" >/dev/null
	wait_for 5 logs_have "$id" got-usr1
	[ "$(pm inspect -f '{{.State.Status}}' "$id")" = running ]
	pm kill "$id" >/dev/null
	run pm wait "$id"
	[ "$output" = 137 ]
	[ "$(state "$id")" = "exited 137" ]
}

@test "podman: pause freezes the container (paused, no progress), unpause resumes it; kill ends a paused one" {
	local id a b c
	mkdir -p "$PM/shared"
	id="$(run_d -v "$PM/shared:/shared" "$IMAGE" sh -c 'while :; do echo x >>/shared/count; usleep 20000; done')"
	wait_for 5 test -s "$PM/shared/count"
	pm pause "$id" >/dev/null
	[ "$(pm inspect -f '{{.State.Status}}' "$id")" = paused ]
	[ "$(rt_status "$id")" = paused ]
	a="$(wc -c <"$PM/shared/count")"
	sleep 0.6
	b="$(wc -c <"$PM/shared/count")"
	[ "$a" = "$b" ]
	pm unpause "$id" >/dev/null
	[ "$(pm inspect -f '{{.State.Status}}' "$id")" = running ]
	[ "$(rt_status "$id")" = running ]
	sleep 0.6
	c="$(wc -c <"$PM/shared/count")"
	echo "# paused: $a -> $b; resumed: $c" >&2
	[ "$c" -gt "$b" ]
	# SIGKILL to a frozen container must end it (runc thaws after the signal).
	pm pause "$id" >/dev/null
	run pm kill "$id"
	[ "$status" = 0 ]
	run pm wait "$id"
	[ "$output" = 137 ]
}

@test "podman: inspect shows the runtime, the init's pid and the container's config" {
	local id
	id="$(run_d --name inspected --hostname hh -e FOO=bar "$IMAGE" sleep 300)"
	run pm inspect "$id"
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq -r '.[0].OCIRuntime')" = "$RT_NAME" ]
	[ "$(echo "$output" | jq -r '.[0].Name')" = inspected ]
	[ "$(echo "$output" | jq -r '.[0].State.Status')" = running ]
	[ "$(echo "$output" | jq -r '.[0].State.Pid')" = "$(rt state "$id" | jq -r .pid)" ]
	[ "$(pm exec "$id" hostname)" = hh ]
	[ "$(pm exec "$id" sh -c 'echo $FOO')" = bar ]
}

@test "podman: stats --no-stream reports the container's memory and pids" {
	local id
	id="$(run_d "$IMAGE" sh -c 'sleep 300 & sleep 300 & wait')"
	wait_for 5 sh -c "[ \"\$(${PODMAN[*]} stats --no-stream --format '{{.PIDs}}' $id)\" = 3 ]"
	run pm stats --no-stream --format json "$id"
	[ "$status" = 0 ]
	echo "$output" >&2
	[ "$(echo "$output" | jq -r '.[0].pids')" = 3 ]
	[[ "$(echo "$output" | jq -r '.[0].mem_usage')" =~ ^[1-9][0-9.]*[kMG]B\ /\  ]]
}

@test "podman: update changes the live cgroup limits (runtime update --resources)" {
	local id pid
	id="$(run_d --memory 64m "$IMAGE" sleep 300)"
	pid="$(pm inspect -f '{{.State.Pid}}' "$id")"
	[ "$(cat "$(cgdir "$pid" memory)/memory.limit_in_bytes")" = $((64 << 20)) ]
	[ "$(cat "$(cgdir "$pid" cpu)/cpu.cfs_quota_us")" = -1 ]
	pm update --memory 32m --cpus 0.5 "$id" >/dev/null
	[ "$(cat "$(cgdir "$pid" memory)/memory.limit_in_bytes")" = $((32 << 20)) ]
	[ "$(cat "$(cgdir "$pid" cpu)/cpu.cfs_quota_us")" = 50000 ]
	[ "$(cat "$(cgdir "$pid" cpu)/cpu.cfs_period_us")" = 100000 ]
	[ "$(rt_status "$id")" = running ]
}

@test "podman: rm removes a stopped container; rm -f a running one, with its process, state and cgroups" {
	local exited id pid cg
	exited="$(run_d "$IMAGE" true)"
	pm wait "$exited" >/dev/null
	pm rm "$exited" >/dev/null
	run pm container exists "$exited"
	[ "$status" = 1 ]
	id="$(run_d "$IMAGE" sleep 300)"
	pid="$(pm inspect -f '{{.State.Pid}}' "$id")"
	cg="$(cgdir "$pid" memory)"
	[ -d "$cg" ]
	pm rm -f -t 0 "$id" >/dev/null
	run pm container exists "$id"
	[ "$status" = 1 ]
	! kill -0 "$pid" 2>/dev/null || false
	run rt state "$id"
	[ "$status" != 0 ]
	[ ! -d "$cg" ]
}

@test "podman: LISTEN_FDS (socket activation) and --preserve-fds pass descriptors into the container" {
	echo fd3-data >"$TEST_TMP/three"
	echo fd4-data >"$TEST_TMP/four"
	# Podman passes its LISTEN_FDS descriptors on when LISTEN_PID is its own pid.
	run bash -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@" 3<"$0"' "$TEST_TMP/three" \
		"${PODMAN[@]}" run --rm "$IMAGE" sh -c 'cat <&3; echo "$LISTEN_FDS $LISTEN_PID"'
	[ "$status" = 0 ]
	[ "$output" = "$(printf 'fd3-data\n1 1')" ]
	run bash -c 'f3=$1 f4=$2; shift 2; exec "$@" 3<"$f3" 4<"$f4"' _ "$TEST_TMP/three" "$TEST_TMP/four" \
		"${PODMAN[@]}" run --rm --preserve-fds 2 "$IMAGE" sh -c 'cat <&3; cat <&4'
	[ "$status" = 0 ]
	[ "$output" = "$(printf 'fd3-data\nfd4-data')" ]
}

@test "podman: info reports the runtime with its version" {
	run pm info --format json
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq -r .host.ociRuntime.name)" = "$RT_NAME" ]
	[ "$(echo "$output" | jq -r .host.ociRuntime.path)" = "$PM_RUNTIME" ]
	[ "$(echo "$output" | jq -r .host.ociRuntime.version)" = "$("$RUNTIME" --version)" ]
	run pm --runtime "$PM_RUNTIME" info --format json
	[ "$(echo "$output" | jq -r .host.ociRuntime.path)" = "$PM_RUNTIME" ]
	[ "$(echo "$output" | jq -r .host.ociRuntime.version)" = "$("$RUNTIME" --version)" ]
}

# The agent sandbox through an engine: the annotation alone gives the container an
# ephemeral overlay root (the image's storage is never written) and a warden. runc
# ignores the annotation, so this one needs safehouse.
@test "podman: --annotation io.safehouse.policy=default gives the container the ephemeral root" {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (runc ignores the annotation)"
	run --separate-stderr pm run --rm --cidfile "$TEST_TMP/cid" --annotation io.safehouse.policy=default "$IMAGE" \
		sh -c 'grep " / / " /proc/self/mountinfo | grep -o " - overlay "; echo note >/agent-note && cat /agent-note'
	[ "$status" = 0 ]
	local cid
	cid="$(cat "$TEST_TMP/cid")"
	[ -n "$cid" ]
	[ "${lines[0]}" = " - overlay " ]
	[ "${lines[1]}" = note ]
	# Nothing reached the image's layer in podman's storage, and nothing is left.
	[ -z "$(find "$PM/storage" -name agent-note 2>/dev/null)" ]
	# (This container's ephemeral root: other suites may have theirs at the same time.)
	! ls /run/safehouse-ephemeral 2>/dev/null | grep -q "^$cid-" || false
	# The same container without the annotation writes into its own container layer.
	run pm run --rm "$IMAGE" sh -c 'grep " / / " /proc/self/mountinfo | grep -c " - overlay "'
	[ "$output" = 0 ]
}

# The whole policy, not only the ephemeral root: what a container carrying only the
# annotation shows from inside is what `agent run` shows (agent.bats, the same probe),
# and `podman exec` gets the policy's process, not the one Podman asked for.
@test "podman: io.safehouse.policy=default applies the whole policy (user namespace, capabilities, both seccomp filters, no_new_privs, limits), to exec too" {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (runc ignores the annotation)"
	run --separate-stderr pm run --rm --annotation io.safehouse.policy=default "$IMAGE" sh -c "$POLICY_PROBE"
	[ "$status" = 0 ]
	policy_probe_ok "$output"
	local id
	id="$(run_d --annotation io.safehouse.policy=default "$IMAGE" sleep 60)"
	run --separate-stderr pm exec "$id" sh -c "$POLICY_PROBE"
	[ "$status" = 0 ]
	policy_probe_ok "$output"
	pm rm -f -t 0 "$id" >/dev/null
	# Podman's own profile stays, the policy's comes after it: two filters.
	run pm run --rm --annotation io.safehouse.policy=default "$IMAGE" grep Seccomp_filters /proc/self/status
	echo "$output" | grep -qxE 'Seccomp_filters:[[:space:]]+2'
	# The same image without the annotation: Podman's own container (host root's ids,
	# its one filter, which lets root make a user namespace).
	run pm run --rm "$IMAGE" sh -c 'cat /proc/self/uid_map; grep Seccomp_filters /proc/self/status; unshare -U true 2>/dev/null && echo "unshare -U: allowed" || echo "unshare -U: refused"'
	echo "$output" | sed 's/^/# /' >&2
	[ "$(echo "${lines[0]}" | tr -s ' ' | sed 's/^ //')" = "0 0 4294967295" ]
	echo "$output" | grep -qxE 'Seccomp_filters:[[:space:]]+1'
}

# conmon, not safehouse, reaps the init: the exit status reaches the sandbox's audit
# log through its warden (taskstats), once; the gvisor backend's too (the warden
# watches runsc's sandbox process, which exits with the container's code).
@test "podman: an agent sandbox's exit status (conmon reaps it) is in its audit log, once, on both backends" {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (runc ignores the annotation)"
	local log="$TEST_TMP/pm.audit.jsonl" backend
	for backend in native gvisor; do
		rm -f "$log" "$log.head"
		run pm run --rm --annotation io.safehouse.policy=default --annotation "io.safehouse.audit=$log" \
			--annotation "io.safehouse.backend=$backend" "$IMAGE" sh -c 'exit 7'
		[ "$status" = 7 ]
		"$RUNTIME" audit verify "$log"
		[ "$(jq -s 'map(select(.kind == "exit")) | length' "$log")" = 1 ]
		jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 7}' "$log"
	done
}

@test "podman: --annotation io.safehouse.backend=gvisor runs the container in runsc (run, exec, update, stop, rm)" {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (runc ignores the annotation)"
	# Foreground: output, stderr and exit code through conmon, from inside gVisor (its
	# kernel log names it; the host's does not).
	run --separate-stderr pm run --rm --annotation io.safehouse.backend=gvisor "$IMAGE" \
		sh -c 'dmesg | grep -c "Starting gVisor"; echo out; echo err >&2; exit 7'
	[ "$status" = 7 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = out ]
	[ "$stderr" = err ]
	# Detached: the runtime's state records the backend; exec, stop and rm reach runsc
	# without being told again.
	local id
	id="$(run_d --annotation io.safehouse.backend=gvisor "$IMAGE" sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done')"
	grep -q '"backend":"gvisor"' "$ROOT/$id/state.json"
	[ "$(rt_status "$id")" = running ]
	[ "$(pm inspect -f '{{.State.Pid}}' "$id")" = "$(rt state "$id" | jq -r .pid)" ]
	run pm exec "$id" sh -c 'dmesg | grep -c "Starting gVisor"; exit 4'
	[ "$status" = 4 ]
	[ "$output" = 1 ]
	# update (runtime update --resources) reaches the sandbox's cgroup.
	pm update --memory 300m "$id" >/dev/null
	local mem
	mem="$(jq -r '.cgroupPaths[] | select(contains("/memory/"))' "$ROOT/$id/state.json")"
	[ "$(cat "$mem/memory.limit_in_bytes")" = 314572800 ]
	pm stop -t 10 "$id" >/dev/null
	[ "$(state "$id")" = "exited 3" ]
	pm rm "$id" >/dev/null
	[ ! -e "$ROOT/$id" ]
	# An unknown backend is refused in one line naming the annotation; nothing is left.
	run pm run --rm --annotation io.safehouse.backend=kata "$IMAGE" true
	[ "$status" != 0 ]
	[[ "$output" == *'io.safehouse.backend'*'unknown backend "kata"'* ]]
}

# needs_safehouse: runc ignores the policy annotations.
needs_safehouse() {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (runc ignores the annotation)"
}

# egress_policy ALLOW: the annotations of a whole policy as `agent spec` writes it (an
# engine passes them on as is), allowing ALLOW, its audit log $TEST_TMP/pm.audit.jsonl.
egress_policy() {
	EGRESS=(--annotation io.safehouse.policy=pm-egress --annotation io.safehouse.limits.disk=67108864
		--annotation "io.safehouse.network.allow=$1" --annotation "io.safehouse.audit=$TEST_TMP/pm.audit.jsonl")
}

# Podman's `--network host` puts no network namespace in the spec: the container would
# share the host's, where the egress listeners and capture rules would govern the host.
@test "podman: network.allow with --network host is refused in one line that says why; nothing is left" {
	needs_safehouse
	local routes
	routes="$(ip route show default)"
	run pm run --rm --network host --annotation io.safehouse.policy=web "$IMAGE" true
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" == *"egress: network.allow is refused in the host's network namespace (linux.namespaces has no network entry, so the container would share it): the egress listeners and capture rules would govern every process of the host"* ]]
	# The same with the generated form of a policy (its allowlist in an annotation).
	egress_policy www.test
	run pm run --rm --network host "${EGRESS[@]}" "$IMAGE" true
	[ "$status" != 0 ]
	[[ "$output" == *"egress: network.allow is refused in the host's network namespace"* ]]
	# And on gvisor.
	run pm run --rm --network host --annotation io.safehouse.policy=web --annotation io.safehouse.backend=gvisor "$IMAGE" true
	[ "$status" != 0 ]
	[[ "$output" == *"egress: network.allow is refused in the host's network namespace (linux.namespaces has no network entry"* ]]
	# Nothing half made: no container state, ephemeral root or mount, no route or
	# nftables table in the host's namespace, no container left in Podman.
	[ -z "$(root_entries)" ]
	! grep -q "$ROOT" /proc/self/mountinfo || false
	[ "$(ip route show default)" = "$routes" ]
	! nft list table inet safehouse >/dev/null 2>&1 || false
	[ -z "$(pm ps -aq)" ]
}

# The default policy allows no network (`agent run` gives it loopback only), and
# `--network host` would leave the container every interface of the host: refused
# too, on both backends, naming the policy; nothing is left. Without the policy the
# same run works (the refusal is the policy's), and with a network of its own the
# policy runs.
@test "podman: the default policy with --network host is refused in one line naming the policy (native and gvisor); nothing is left" {
	needs_safehouse
	local routes backend id
	routes="$(ip route show default)"
	run pm run --rm --network host "$IMAGE" true
	[ "$status" = 0 ]
	for backend in native gvisor; do
		id="$(pm create --network host --annotation io.safehouse.policy=default --annotation "io.safehouse.backend=$backend" \
			--annotation "io.safehouse.audit=$TEST_TMP/host-$backend.audit.jsonl" "$IMAGE" true)"
		run pm start "$id"
		echo "$backend: $output" >&2
		[ "$status" != 0 ]
		[[ "$output" == *"egress: policy \"default\" allows no network, and the container shares the host's network namespace (linux.namespaces has no network entry, so the container would share it): it would keep every interface of the host; give the container a network namespace of its own (not Podman's --network host, not a pod with hostNetwork)"* ]]
		# Nothing half made: no state, ephemeral root, mount, cgroup, route, nftables
		# table or audit log (create never got that far).
		[ -z "$(root_entries)" ]
		! grep -q "$ROOT" /proc/self/mountinfo || false
		[ -z "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -name "libpod-$id" 2>/dev/null)" ]
		[ "$(ip route show default)" = "$routes" ]
		! nft list table inet safehouse >/dev/null 2>&1 || false
		[ ! -e "$TEST_TMP/host-$backend.audit.jsonl" ]
		pm rm "$id" >/dev/null
	done
	[ -z "$(pm ps -aq)" ]
	# The same policy with a network of its own (Podman's none here) runs.
	run pm run --rm --network none --annotation io.safehouse.policy=default "$IMAGE" true
	[ "$status" = 0 ]
}

# pm_world: a network namespace for containers (PM_NS, loopback only, for --network
# ns:PATH) and a "world" namespace joined to the host by a veth pair, serving
# http://PM_NET.2:8080/id and http://PM_NET.3:8080/id (its addresses) with busybox
# httpd; the warden, in the host's namespace, reaches them. Removed by pm_world_gone.
pm_world() {
	PM_NS="shpm-podnet-$$" PM_W="shpmw-$$"
	PM_NET="10.215.$(($$ % 250))"
	ip netns add "$PM_NS"
	ip netns add "$PM_W"
	ip link add "shpmh$$" type veth peer name "shpmw$$"
	ip link set "shpmw$$" netns "$PM_W"
	ip addr add "$PM_NET.1/29" dev "shpmh$$"
	ip link set "shpmh$$" up
	ip -n "$PM_W" addr add "$PM_NET.2/29" dev "shpmw$$"
	ip -n "$PM_W" addr add "$PM_NET.3/29" dev "shpmw$$"
	ip -n "$PM_W" link set "shpmw$$" up
	ip -n "$PM_W" link set lo up
	mkdir -p "$TEST_TMP/www"
	echo world >"$TEST_TMP/www/id"
	ip netns exec "$PM_W" busybox httpd -p 8080 -h "$TEST_TMP/www" </dev/null >/dev/null 2>&1 3>&-
}

pm_world_gone() {
	local pid
	for pid in $(ip netns pids "$PM_W" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	ip netns del "$PM_W" 2>/dev/null || true
	ip netns del "$PM_NS" 2>/dev/null || true
	ip link del "shpmh$$" 2>/dev/null || true
}

@test "podman: network.allow in a namespace given by path (--network ns:PATH): two containers share the first one's egress; a differing allowlist is refused" {
	needs_safehouse
	pm_world
	egress_policy "$PM_NET.2:8080"
	local one two owner
	one="$(run_d --network "ns:/run/netns/$PM_NS" "${EGRESS[@]}" "$IMAGE" sleep 60)"
	two="$(run_d --network "ns:/run/netns/$PM_NS" "${EGRESS[@]}" "$IMAGE" sleep 60)"
	# The first container serves the namespace (its record in the runtime root).
	owner="$(cat "$ROOT"/@netns/*.json)"
	[ "$(echo "$owner" | jq -r .container)" = "$one" ]
	[ "$(ls "$ROOT/@netns" | wc -l)" = 1 ]
	local id
	for id in "$one" "$two"; do
		run pm exec "$id" timeout 5 wget -q -O- "http://$PM_NET.2:8080/id"
		[ "$output" = world ]
		run pm exec "$id" timeout 5 wget -q -O- "http://$PM_NET.3:8080/id"
		[ "$status" != 0 ]
		run pm exec "$id" env http_proxy=http://127.0.0.1:3128 timeout 5 wget -q -O- "http://$PM_NET.2:8080/id"
		[ "$output" = world ]
	done
	jq -e -s --arg h "$PM_NET.3" 'map(select(.kind == "egress" and (.details.decision | tostring | contains("denied") and contains($h)))) | length > 0' \
		"$TEST_TMP/pm.audit.jsonl"
	# Another allowlist in the same namespace: refused, naming the owner; nothing left.
	egress_policy "$PM_NET.3:8080"
	run pm run --rm --network "ns:/run/netns/$PM_NS" "${EGRESS[@]}" "$IMAGE" true
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" == *"is served by container $one, whose policy has network.allow \"$PM_NET.2:8080\"; this container's has \"$PM_NET.3:8080\""* ]]
	# On gvisor, refused too: runsc's sandbox network would take the namespace's
	# interfaces into gVisor's netstack, around the warden (docs/engines.md).
	egress_policy "$PM_NET.2:8080"
	run pm run --rm --network "ns:/run/netns/$PM_NS" "${EGRESS[@]}" --annotation io.safehouse.backend=gvisor "$IMAGE" true
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" == *"egress: network.allow on the gvisor backend needs a network namespace runsc makes, and linux.namespaces names /run/netns/$PM_NS: runsc's sandbox network copies that namespace's interfaces and routes into gVisor's netstack"* ]]
	[ "$(root_entries | grep -vx @netns | sort)" = "$(printf '%s\n' "$one" "$two" | sort)" ]
	# The owner removed, its record goes with it.
	pm rm -f -t 0 "$one" "$two" >/dev/null
	[ -z "$(ls "$ROOT/@netns")" ]
}

# pm_bridge: a Podman bridge network as `podman network create` makes one (CNI: the
# bridge plugin with ipMasq and a default route through the gateway, portmap, firewall,
# tuning), as PM_BRNET on a private /24 (PM_BRP.0/24) and a bridge of the test's own
# (PM_BR, made here with the gateway address, so the test hosts can listen before the
# first container). Two test hosts in the host's namespace, on the bridge's addresses
# PM_BRP.1 (the gateway) and PM_BRP.254, serve http://ADDRESS:8080/id: a container
# reaches them without any packet leaving the machine (no test connects anywhere else).
# Removed by pm_bridge_gone.
pm_bridge() {
	local n=$(($$ % 200 + 20)) i
	for i in $(seq 200); do
		ip route | grep -q "^10\.216\.$n\." || break
		n=$(((n + 1) % 250))
	done
	PM_BRNET="shpm-br-$$" PM_BR="shpmbr$$" PM_BRP="10.216.$n" PM_BR_PIDS=()
	pm network create --subnet "$PM_BRP.0/24" --disable-dns "$PM_BRNET" >/dev/null
	local conf="$PM/net/$PM_BRNET.conflist"
	jq --arg br "$PM_BR" '.plugins[0].bridge = $br' "$conf" >"$conf.new"
	mv "$conf.new" "$conf"
	ip link add name "$PM_BR" type bridge
	ip addr add "$PM_BRP.1/24" dev "$PM_BR"
	ip addr add "$PM_BRP.254/24" dev "$PM_BR"
	ip link set "$PM_BR" up
	mkdir -p "$TEST_TMP/www"
	echo world >"$TEST_TMP/www/id"
	for i in 1 254; do
		busybox httpd -f -p "$PM_BRP.$i:8080" -h "$TEST_TMP/www" </dev/null >/dev/null 2>&1 3>&- &
		PM_BR_PIDS+=($!)
	done
	wait_for 5 busybox wget -q -O /dev/null "http://$PM_BRP.254:8080/id"
}

pm_bridge_gone() {
	local pid table rule
	for pid in "${PM_BR_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
	pm network rm -f "$PM_BRNET" >/dev/null 2>&1 || true
	ip link del "$PM_BR" 2>/dev/null || true
	# The bridge plugin's masquerade rules carry the network's name in their comment.
	for table in nat filter; do
		iptables-save -t "$table" 2>/dev/null | grep -F -- "$PM_BRNET" | grep '^-A ' |
			while read -r rule; do eval "iptables -t $table -D ${rule#-A }" 2>/dev/null || true; done
	done
}

# cni_chains_gone: the chains CNI's firewall and portmap plugins leave in the host's
# iptables (empty once the file's networks are gone), with the jumps to them.
cni_chains_gone() {
	local table rule chain
	for table in filter nat; do
		iptables-save -t "$table" 2>/dev/null | grep '^-A ' | grep -vE '^-A CNI-' |
			grep -E -- '-j CNI-(FORWARD|HOSTPORT-DNAT|HOSTPORT-MASQ)( |$)' |
			while read -r rule; do eval "iptables -t $table -D ${rule#-A }" 2>/dev/null || true; done
	done
	for chain in CNI-FORWARD CNI-ADMIN; do iptables -t filter -F "$chain" 2>/dev/null || true; done
	for chain in CNI-FORWARD CNI-ADMIN; do iptables -t filter -X "$chain" 2>/dev/null || true; done
	for chain in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do iptables -t nat -F "$chain" 2>/dev/null || true; done
	for chain in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do iptables -t nat -X "$chain" 2>/dev/null || true; done
}

# egress_denied LOG HOST: the audit log LOG has a refused egress decision naming HOST.
egress_denied() {
	jq -e -s --arg h "$2" 'map(select(.kind == "egress" and (.details.decision | tostring | contains("denied") and contains($h)))) | length > 0' "$1" >/dev/null
}

# What a container serves on its port 8080 (busybox httpd, "inside" at /id).
SERVE='mkdir -p /tmp/w && echo inside >/tmp/w/id && exec httpd -f -p 8080 -h /tmp/w'

# The default policy (no network.allow) on Podman's bridge network: no egress, as
# `agent run` gives it. The runtime serves the namespace Podman made with an empty
# allowlist: every connection and DNS query captured and refused, and recorded; a
# port Podman publishes gets no answer (the answer would leave the namespace);
# loopback works. On gvisor, runsc's network none: gVisor's loopback alone.
@test "podman: the default policy on a bridge network: no egress (a host the same container reaches without it), no answer on a published port, loopback kept, the refusals in the audit log; gvisor has loopback only" {
	needs_safehouse
	pm_bridge
	# Without the policy: the test host answers, and so does a published port.
	run pm run --rm --network "$PM_BRNET" "$IMAGE" timeout 5 wget -q -O- "http://$PM_BRP.1:8080/id"
	[ "$output" = world ]
	run_d --network "$PM_BRNET" -p "$PM_BRP.1:18080:8080" "$IMAGE" sh -c "$SERVE" >/dev/null
	wait_for 5 timeout 2 wget -q -O /dev/null "http://$PM_BRP.1:18080/id"
	[ "$(timeout 5 wget -q -O- "http://$PM_BRP.1:18080/id")" = inside ]
	local log="$TEST_TMP/pm.audit.jsonl" id
	id="$(run_d --network "$PM_BRNET" -p "$PM_BRP.1:18081:8080" --annotation io.safehouse.policy=default \
		--annotation "io.safehouse.audit=$log" "$IMAGE" sh -c "$SERVE")"
	# The container serves the namespace Podman made, with an empty allowlist.
	[ "$(jq -r .container "$ROOT"/@netns/*.json)" = "$id" ]
	[ "$(jq -c .terms "$ROOT"/@netns/*.json)" = '{"network.allow":""}' ]
	run pm exec "$id" timeout 5 wget -q -O- "http://$PM_BRP.1:8080/id"
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" != *world* ]]
	run pm exec "$id" timeout 5 nslookup www.example.test "$PM_BRP.1"
	[ "$status" != 0 ]
	# Loopback, inside the namespace, still works.
	wait_for 5 pm exec "$id" timeout 2 wget -q -O /dev/null http://127.0.0.1:8080/id
	[ "$(pm exec "$id" timeout 5 wget -q -O- http://127.0.0.1:8080/id)" = inside ]
	# The published port gets no answer.
	run timeout 5 wget -q -O- "http://$PM_BRP.1:18081/id"
	[ "$status" != 0 ]
	[[ "$output" != *inside* ]]
	# The refusals, recorded as any egress decision.
	wait_for 5 egress_denied "$log" "$PM_BRP.1"
	jq -e -s 'map(select(.kind == "egress" and (tostring | contains("www.example.test")))) | length > 0' "$log"
	pm rm -f -t 0 "$id" >/dev/null
	[ -z "$(ls "$ROOT/@netns")" ]
	# gvisor: runsc's network none, whatever Podman put in the namespace.
	run pm run --rm --network "$PM_BRNET" --annotation io.safehouse.policy=default \
		--annotation io.safehouse.backend=gvisor "$IMAGE" sh -c \
		"sed 1,2d /proc/net/dev | cut -d: -f1 | tr -d ' '; timeout 5 wget -q -O- http://$PM_BRP.1:8080/id 2>/dev/null || echo refused"
	echo "$output" >&2
	[ "$status" = 0 ]
	[ "$output" = "lo
refused" ]
}

# network.mode explicit (the proxies only) in a namespace Podman made: the namespace's
# interfaces stay, so the runtime rejects whatever is not for the namespace itself; a
# direct connection to the allowed host fails at once, as in `agent run`'s namespace,
# where it has no route.
@test "podman: network.mode explicit on a bridge network: the allowed host only through the proxy, a direct connection refused" {
	needs_safehouse
	pm_bridge
	egress_policy "$PM_BRP.1:8080"
	local id
	id="$(run_d --network "$PM_BRNET" "${EGRESS[@]}" --annotation io.safehouse.network.mode=explicit "$IMAGE" sleep 60)"
	[ "$(jq -r '.terms["network.mode"]' "$ROOT"/@netns/*.json)" = explicit ]
	run pm exec "$id" env http_proxy=http://127.0.0.1:3128 timeout 5 wget -q -O- "http://$PM_BRP.1:8080/id"
	[ "$output" = world ]
	run pm exec "$id" timeout 5 wget -q -O- "http://$PM_BRP.1:8080/id"
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" == *"Connection refused"* ]]
	pm rm -f -t 0 "$id" >/dev/null
	[ -z "$(ls "$ROOT/@netns")" ]
}

# A Podman pod (`podman pod create`): the infra container makes the network namespace
# (here on the bridge network), the pod's containers join it by /proc/PID/ns/net. The
# infra container carries no annotation (pod create has no such flag), so the pod's
# first container with a policy serves the namespace, and the infra container is under
# its rules like every process there. The policies are in the generated form (as
# `agent spec` writes them: no user namespace added), since a policy named alone would
# give each container a user namespace of its own, which cannot mount the pod's ipc
# namespace's mqueue (docs/engines.md).
@test "podman: a pod (podman pod create): two containers share the first one's egress (allowed host reached, another refused); a pod whose policy has no network reaches nothing; differing terms refused both ways" {
	needs_safehouse
	pm_bridge
	tar -C "$ROOTFS" -c . | pm import --change 'ENTRYPOINT ["sleep", "2147483647"]' - localhost/safehouse-pause >/dev/null 2>&1
	pm pod create --name "webpod-$$" --network "$PM_BRNET" --infra-image localhost/safehouse-pause >/dev/null
	egress_policy "$PM_BRP.1:8080"
	local one two id
	one="$(run_d --pod "webpod-$$" "${EGRESS[@]}" "$IMAGE" sleep 60)"
	two="$(run_d --pod "webpod-$$" "${EGRESS[@]}" "$IMAGE" sleep 60)"
	[ "$(jq -r .container "$ROOT"/@netns/*.json)" = "$one" ]
	for id in "$one" "$two"; do
		run pm exec "$id" timeout 5 wget -q -O- "http://$PM_BRP.1:8080/id"
		[ "$output" = world ]
		run pm exec "$id" timeout 5 wget -q -O- "http://$PM_BRP.254:8080/id"
		[ "$status" != 0 ]
	done
	egress_denied "$TEST_TMP/pm.audit.jsonl" "$PM_BRP.254"
	# A container of the pod without an allowlist: refused, naming the owner.
	run pm run --rm --pod "webpod-$$" --annotation io.safehouse.policy=pm-nonet --annotation io.safehouse.limits.disk=67108864 "$IMAGE" true
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" == *"is served by container $one, whose policy has network.allow \"$PM_BRP.1:8080\"; this container's has none"* ]]
	pm pod rm -f -t 0 "webpod-$$" >/dev/null
	[ -z "$(ls "$ROOT/@netns")" ]
	# A pod whose containers have the default policy: neither reaches the host the
	# other pod's allowlist let through.
	pm pod create --name "nonet-$$" --network "$PM_BRNET" --infra-image localhost/safehouse-pause >/dev/null
	local nonet=(--annotation io.safehouse.policy=pm-nonet --annotation io.safehouse.limits.disk=67108864)
	one="$(run_d --pod "nonet-$$" "${nonet[@]}" "$IMAGE" sleep 60)"
	two="$(run_d --pod "nonet-$$" "${nonet[@]}" "$IMAGE" sleep 60)"
	[ "$(jq -r .container "$ROOT"/@netns/*.json)" = "$one" ]
	for id in "$one" "$two"; do
		run pm exec "$id" timeout 5 wget -q -O- "http://$PM_BRP.1:8080/id"
		[ "$status" != 0 ]
		[[ "$output" != *world* ]]
	done
	# An allowlist in it: refused, naming the owner.
	run pm run --rm --pod "nonet-$$" "${EGRESS[@]}" "$IMAGE" true
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" == *"is served by container $one, whose policy has network.allow none; this container's has \"$PM_BRP.1:8080\""* ]]
	pm pod rm -f -t 0 "nonet-$$" >/dev/null
	[ -z "$(ls "$ROOT/@netns")" ]
}

# A deadline (limits.timeout) through Podman: the warden kills the container at it.
# conmon reaps the init and Podman shows what conmon saw, the SIGKILL (137, exited):
# Podman has no field for why. The audit log's warden report says timeout.
@test "podman: a policy's deadline kills the container: Podman shows exited 137, the audit log says timeout (both backends)" {
	needs_safehouse
	local log="$TEST_TMP/pm.audit.jsonl" id started backend
	for backend in native gvisor; do
		rm -f "$log" "$log.head"
		started=$SECONDS
		id="$(run_d --annotation io.safehouse.policy=pm-deadline --annotation io.safehouse.limits.disk=67108864 \
			--annotation io.safehouse.limits.timeout=1 --annotation "io.safehouse.audit=$log" \
			--annotation "io.safehouse.backend=$backend" "$IMAGE" sleep 60)"
		run pm wait "$id"
		[ "$output" = 137 ]
		[ $((SECONDS - started)) -lt 30 ]
		[ "$(state "$id")" = "exited 137" ]
		[ "$(pm inspect -f '{{.State.OOMKilled}} {{.State.Error}}' "$id")" = "false " ]
		pm rm "$id" >/dev/null
		wait_for 10 sh -c "jq -e -s 'map(.kind) | index(\"delete\")' '$log' >/dev/null"
		"$RUNTIME" audit verify "$log"
		jq -e -s 'map(select(.kind == "warden")) | .[0].details.report.reason == "timeout"' "$log"
		jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 137, "signal": 9}' "$log"
	done
}

# pm_count ID: the count a counting container (below) has reached.
pm_count() { read_number pm exec "$1" cat /dev/shm/n 2>/dev/null; }

@test "podman: container checkpoint and restore of a gvisor container: it counts on from its memory" {
	local id n before after
	id="$(run_d --annotation io.safehouse.backend=gvisor "$IMAGE" \
		sh -c 'i=0; while true; do i=$((i+1)); echo $i > /dev/shm/n; sleep 0.1; done')"
	for n in $(seq 50); do
		before="$(pm_count "$id" || echo 0)"
		[ "${before:-0}" -gt 15 ] && break
		sleep 0.1
	done
	[ "$before" -gt 15 ]
	run pm container checkpoint "$id"
	echo "$output"
	[ "$status" = 0 ]
	[ "$(pm inspect -f '{{.State.Status}}' "$id")" = exited ]
	run pm container restore "$id"
	echo "$output"
	[ "$status" = 0 ]
	[ "$(pm inspect -f '{{.State.Status}}' "$id")" = running ]
	after="$(pm_count "$id")"
	# A restart would have counted from 1 again.
	[ "$after" -ge "$before" ]
	[ "$(rt_status "$id")" = running ]
}

@test "podman: container checkpoint of a native container fails in one line where CRIU cannot run, and the container keeps running" {
	criu check >/dev/null 2>&1 && skip "criu check passes on this host"
	local id
	id="$(run_d "$IMAGE" sleep 1000)"
	run pm container checkpoint "$id"
	echo "$output"
	[ "$status" != 0 ]
	[[ "$output" == *"criu check fails on this host"* ]]
	[ "$(pm inspect -f '{{.State.Status}}' "$id")" = running ]
}
