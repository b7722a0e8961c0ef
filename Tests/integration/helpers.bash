# Tests/integration/helpers.bash: shared set-up for the safehouse integration tests.
#
# The tests are runtime-agnostic. Environment:
#   RUNTIME    the runtime under test (path or name in PATH);
#              default: the safehouse release binary, $REPO/.build/release/safehouse
#   REFERENCE  the runtime whose behaviour defines "correct" in differential tests;
#              default: runc
#   ROOTFS     the shared busybox root filesystem (hack/mkrootfs);
#              default: $REPO/bundles/busybox/rootfs
#   SAFEHOUSE_BACKEND
#              native (default) or gvisor: the backend of every container RUNTIME
#              makes under $ROOT, chosen the way an operator would, by the root's
#              config file ($ROOT/safehouse.conf: "backend = gvisor"). The gvisor stage
#              of .ci/run runs the subset listed in Tests/integration/gvisor-subset.txt
#              this way (hack/gvisor-tests).
#
# Prove the tests themselves with:  RUNTIME=runc REFERENCE=runc bats Tests/integration
#
# Every test gets a throwaway bundle ($BUNDLE) whose config.json is
# bundles/busybox/config.json with an absolute root.path to the shared rootfs
# (read-only; /dev is a tmpfs per container in that config, so device nodes never land
# in the shared tree), and its own runtime roots ($ROOT for RUNTIME, $REF_ROOT for
# REFERENCE). teardown deletes (--force) whatever is left and removes the temp dir.

bats_require_minimum_version 1.5.0

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
ROOTFS="${ROOTFS:-$REPO/bundles/busybox/rootfs}"
BASE_CONFIG="$REPO/bundles/busybox/config.json"

_resolve() {
	case "$1" in
	*/*) echo "$1" ;;
	*) command -v "$1" || echo "$1" ;;
	esac
}
RUNTIME="$(_resolve "${RUNTIME:-$REPO/.build/release/safehouse}")"
REFERENCE="$(_resolve "${REFERENCE:-runc}")"
export RUNTIME REFERENCE ROOTFS

common_setup() {
	if [ ! -x "$RUNTIME" ]; then
		echo "RUNTIME $RUNTIME is not an executable (run hack/build, or set RUNTIME=runc)" >&2
		return 1
	fi
	if [ ! -x "$ROOTFS/bin/busybox" ]; then
		echo "no rootfs at $ROOTFS (run hack/mkrootfs)" >&2
		return 1
	fi
	TEST_TMP="$(mktemp -d /tmp/safehouse-it.XXXXXX)"
	chmod 0755 "$TEST_TMP"
	ROOT="$TEST_TMP/root"
	REF_ROOT="$TEST_TMP/refroot"
	BUNDLE="$TEST_TMP/bundle"
	mkdir -p "$BUNDLE"
	jq --arg r "$ROOTFS" '.root.path = $r' "$BASE_CONFIG" >"$BUNDLE/config.json"
	if [ "${SAFEHOUSE_BACKEND:-native}" != native ]; then
		mkdir -p "$ROOT"
		chmod 0700 "$ROOT"
		printf 'backend = %s\n' "$SAFEHOUSE_BACKEND" >"$ROOT/safehouse.conf"
	fi
	# Every sandbox leaves an audit log in /var/log/safehouse (it outlives the sandbox
	# by design): the ones a test makes there are removed by common_teardown.
	ls -1 /var/log/safehouse 2>/dev/null >"$TEST_TMP/.audit-logs-before" || true
}

# Delete every container left under a root, by the runtime's own list and by the
# directory names (in case list itself is what broke).
_cleanup_root() {
	local rt="$1" root="$2" id
	[ -d "$root" ] || return 0
	{
		"$rt" --root "$root" list -q 2>/dev/null || true
		ls -1 "$root" 2>/dev/null || true
	} | sort -u | while read -r id; do
		[ -n "$id" ] || continue
		"$rt" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	done
}

common_teardown() {
	[ -n "${TEST_TMP:-}" ] || return 0
	_cleanup_root "$RUNTIME" "$ROOT"
	_cleanup_root "$REFERENCE" "$REF_ROOT"
	# runsc processes (sandbox, gofer) of a gvisor container the runtime lost track of:
	# they name this test's runsc root on their command line.
	if [ -d "$ROOT/@runsc" ]; then
		pgrep -f -- "--root $ROOT/@runsc" | xargs -r kill -9 2>/dev/null || true
	fi
	# Containers a runtime lost track of (an interrupted create, a timed-out test):
	# the cgroups named after this run's ids, in every hierarchy.
	local cg
	find /sys/fs/cgroup -mindepth 2 -maxdepth 5 -type d \( -name "it*-*-$$" -o -name "safehouse-it-$$-*" \) \
		2>/dev/null | sort -r | while read -r cg; do
		xargs -r kill -9 <"$cg/cgroup.procs" 2>/dev/null || true
		rmdir "$cg" 2>/dev/null || { sleep 0.1; rmdir "$cg" 2>/dev/null; } || true
	done
	# Mounts a test made under its temp dir (deepest first).
	awk -v d="$TEST_TMP/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	if [ -d /var/log/safehouse ]; then
		ls -1 /var/log/safehouse | comm -13 "$TEST_TMP/.audit-logs-before" - |
			while read -r f; do rm -f "/var/log/safehouse/$f"; done
	fi
	rm -rf "$TEST_TMP"
}

setup() { common_setup; }
teardown() { common_teardown; }

# A fresh container id, unique within the test (a counter file, since new_id usually
# runs in a command substitution's subshell).
new_id() {
	local n
	n=$(($(cat "$TEST_TMP/.idseq" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$TEST_TMP/.idseq"
	echo "it${BATS_TEST_NUMBER}-${n}-$$"
}

# read_number CMD...: CMD's output, a number a process in the container keeps rewriting
# (truncate, then write): a read between the two sees the file empty, so read again
# then (1 s at most). CMD failing fails at once.
read_number() {
	local i n=""
	for i in $(seq 20); do
		n="$("$@")" || return 1
		[[ "$n" =~ ^[0-9]+$ ]] && { echo "$n"; return 0; }
		sleep 0.05
	done
	echo "no number from $*: '$n'" >&2
	return 1
}

# root_entries: what is in $ROOT besides the root's own config and runsc's state
# (SAFEHOUSE_BACKEND=gvisor puts safehouse.conf and @runsc there): the containers'
# directories, which a failed or deleted container must not leave behind.
root_entries() {
	ls -A "$ROOT" 2>/dev/null | grep -vxE 'safehouse\.conf|@runsc' || true
}

# rt ARGS...: the runtime under test with this test's root.  ref ARGS...: the reference.
rt() { "$RUNTIME" --root "$ROOT" "$@"; }
ref() { "$REFERENCE" --root "$REF_ROOT" "$@"; }

# config FILTER [JQ-ARGS...]: apply a jq filter to $BUNDLE/config.json in place.
config() {
	local filter="$1"
	shift
	jq "$@" "$filter" "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
	mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# cmd SCRIPT: make the container process `sh -c SCRIPT`.
cmd() {
	config '.process.args = ["sh", "-c", $s]' --arg s "$1"
}

# run_both [FILTER [JQ-ARGS...]]: apply FILTER to the bundle's config, then run the
# bundle in the foreground with "$REFERENCE run" and "$RUNTIME run" (unique ids, stdin
# from /dev/null) and compare stdout and exit code. Sets ref_out, ref_status, ref_err,
# rt_out, rt_status, rt_err for further checks. Fails, showing both sides, on a mismatch.
run_both() {
	if [ $# -gt 0 ]; then config "$@"; fi
	local rid tid
	rid="$(new_id)"
	tid="$(new_id)"
	ref_status=0
	"$REFERENCE" --root "$REF_ROOT" run --bundle "$BUNDLE" "$rid" \
		</dev/null >"$TEST_TMP/ref.out" 2>"$TEST_TMP/ref.err" || ref_status=$?
	rt_status=0
	"$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$tid" \
		</dev/null >"$TEST_TMP/rt.out" 2>"$TEST_TMP/rt.err" || rt_status=$?
	ref_out="$(cat "$TEST_TMP/ref.out")"
	rt_out="$(cat "$TEST_TMP/rt.out")"
	ref_err="$(cat "$TEST_TMP/ref.err")"
	rt_err="$(cat "$TEST_TMP/rt.err")"
	if [ "$ref_out" != "$rt_out" ] || [ "$ref_status" != "$rt_status" ]; then
		{
			echo "# differential mismatch: config.json filter: ${1:-<none>}"
			echo "# reference ($REFERENCE): exit $ref_status"
			sed 's/^/#   /' "$TEST_TMP/ref.out"
			[ -s "$TEST_TMP/ref.err" ] && echo "#   stderr: $ref_err"
			echo "# runtime ($RUNTIME): exit $rt_status"
			sed 's/^/#   /' "$TEST_TMP/rt.out"
			[ -s "$TEST_TMP/rt.err" ] && echo "#   stderr: $rt_err"
			echo "# diff reference runtime:"
			diff "$TEST_TMP/ref.out" "$TEST_TMP/rt.out" | sed 's/^/#   /'
		} >&2
		return 1
	fi
}

# expect_out STRING: the (identical) output of run_both must equal STRING, so that a
# differential test never passes because both runtimes failed the same way.
expect_out() {
	if [ "$ref_out" != "$1" ]; then
		{
			echo "# expected output:"
			echo "$1" | sed 's/^/#   /'
			echo "# got (exit $ref_status):"
			echo "$ref_out" | sed 's/^/#   /'
			[ -n "${ref_err:-}" ] && echo "#   stderr: $ref_err"
		} >&2
		return 1
	fi
}

# expect_ok: both exited 0.  expect_fail: both failed (non-zero).
expect_ok() {
	if [ "$ref_status" != 0 ]; then
		echo "# reference exited $ref_status: $ref_err" >&2
		return 1
	fi
}
expect_fail() {
	if [ "$ref_status" = 0 ]; then
		echo "# reference unexpectedly exited 0" >&2
		return 1
	fi
}

# Wait up to ~5 s for `rt state ID` to report STATUS.
wait_status() {
	local id="$1" want="$2" i s
	for i in $(seq 50); do
		s="$(rt state "$id" 2>/dev/null | jq -r .status 2>/dev/null || true)"
		[ "$s" = "$want" ] && return 0
		sleep 0.1
	done
	echo "# container $id: status '$s', wanted '$want'" >&2
	return 1
}

# Is RUNTIME runc 1.1.x? (Known deviations from the runtime-spec are skipped there.)
runtime_is_runc11() {
	"$RUNTIME" --version 2>/dev/null | head -1 | grep -q '^runc version 1\.1\.'
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# What a container under io.safehouse.policy=default shows from inside, the same on
# every path (agent run, Podman, the CRI; docs/engines.md's table): its uid map, its
# effective capabilities, no_new_privs, seccomp, a call the agent profile refuses
# (unshare -U: new user namespaces), and its memory and pids limits where its cgroup
# is mounted (cgroup v1 or v2; `agent run`'s spec mounts none: "unseen").
POLICY_PROBE='cat /proc/self/uid_map
grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status
echo "memory: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max 2>/dev/null || echo unseen)"
echo "pids: $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max 2>/dev/null || echo unseen)"
unshare -U true 2>/dev/null && echo "unshare -U: allowed" || echo "unshare -U: refused"'

# The default profile's capabilities (CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4,
# KILL 5, SETGID 6, SETUID 7, NET_BIND_SERVICE 10) as /proc's CapEff mask: what a
# container gets when its engine granted all of them (Podman's and containerd's
# defaults do).
POLICY_CAPEFF=00000000000004fb

# policy_probe_ok TEXT [CAPEFF [LIMITS]]: TEXT (POLICY_PROBE's output) is the default
# policy's sandbox: container ids 0-65535 on an unprivileged host range (HostIDRange's
# pool, never "0 0 4294967295"), CAPEFF (default POLICY_CAPEFF: the policy's set cut
# by the engine's), no_new_privs, a filter (Seccomp 2) that refuses unshare -U, and,
# unless LIMITS is "unseen", 1 GiB and 256 pids or less.
policy_probe_ok() {
	local text="$1" capeff="${2:-$POLICY_CAPEFF}" limits="${3:-seen}" map
	echo "$text" | sed 's/^/# /' >&2
	map="$(echo "$text" | sed -n 1p | tr -s ' ' | sed 's/^ //')"
	[ "$(echo "$map" | cut -d' ' -f1)" = 0 ] && [ "$(echo "$map" | cut -d' ' -f3)" = 65536 ] &&
		[ "$(echo "$map" | cut -d' ' -f2)" -ge 1000000000 ] || { echo "# uid_map: $map" >&2; return 1; }
	echo "$text" | grep -qxE "CapEff:[[:space:]]+$capeff"
	echo "$text" | grep -qxE 'NoNewPrivs:[[:space:]]+1'
	echo "$text" | grep -qxE 'Seccomp:[[:space:]]+2'
	echo "$text" | grep -qx 'unshare -U: refused'
	if [ "$limits" = unseen ]; then
		echo "$text" | grep -qx 'memory: unseen'
	else
		[ "$(echo "$text" | sed -n 's/^memory: //p')" -le 1073741824 ]
		[ "$(echo "$text" | sed -n 's/^pids: //p')" -le 256 ]
	fi
}
