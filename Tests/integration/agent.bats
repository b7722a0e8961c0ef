#!/usr/bin/env bats
# The agent sandbox (`safehouse agent run|spec|stop-all`), each promise of the issue
# observed from outside: writes outside the zones vanish and never reach the rootfs,
# /input is read-only, /output persists (and is handed back to its owner), /scratch is
# size-capped, the disk limit stops a writer with ENOSPC, a timeout exits 124 and
# leaves no process, mount or cgroup, memory and pids limits hold, root inside cannot
# open a host-owned file, the generated spec runs under runc too, and the emergency
# stop kills every sandbox. These need the real runtime (RUNTIME=safehouse).

load helpers

setup() {
	common_setup
	IN="$TEST_TMP/in"
	OUT="$TEST_TMP/out"
	mkdir -p "$IN"
	echo "hello from the host" >"$IN/a.txt"
	chmod 0644 "$IN/a.txt"
	# The rootfs's own state, to prove later that nothing reached it.
	ROOTFS_SUM="$(find "$ROOTFS" -xdev -printf '%p %s %T@ %m\n' | sort | md5sum)"
}

teardown() {
	local now
	now="$(find "$ROOTFS" -xdev -printf '%p %s %T@ %m\n' | sort | md5sum)"
	[ "$now" = "$ROOTFS_SUM" ] || echo "# the shared rootfs changed" >&2
	common_teardown
	[ "$now" = "$ROOTFS_SUM" ]
}

# agent ARGS... -- CMD...: `agent run` under this test's root, summary as JSON.
agent() {
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --rootfs "$ROOTFS" --summary json "$@"
}

# nothing_left ID: no state, mount, cgroup, process or bundle of sandbox ID remains.
nothing_left() {
	[ ! -e "$ROOT/$1" ] || { echo "# state of $1 left" >&2; return 1; }
	! grep -q "$1" /proc/self/mountinfo || { echo "# mount of $1 left" >&2; return 1; }
	[ -z "$(find /sys/fs/cgroup -maxdepth 8 -type d -name "$1" 2>/dev/null)" ] || { echo "# cgroup of $1 left" >&2; return 1; }
	[ ! -e "/run/safehouse-agent/$1" ] || { echo "# bundle of $1 left" >&2; return 1; }
	! ls /run/safehouse-ephemeral 2>/dev/null | grep -q "^$1-" || { echo "# ephemeral root of $1 left" >&2; return 1; }
}

@test "agent run: the command's output and exit code; writes outside the zones vanish, the change set reports them" {
	local id="sbx-$$-1"
	run --separate-stderr agent --id "$id" -- sh -c 'echo out; echo err >&2; echo x >/etc/agent-note; echo y >>/etc/passwd; rm /bin/true; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = "out" ]
	echo "$stderr" | grep -qx err
	summary="$(echo "$stderr" | tail -n1)"
	echo "$summary" | jq -e '.exitCode == 3 and .limitsHit == []'
	echo "$summary" | jq -e '.changes | map(select(.path == "/etc/agent-note" and .kind == "created" and .size == 2)) | length == 1'
	echo "$summary" | jq -e '.changes | map(select(.path == "/etc/passwd" and .kind == "modified")) | length == 1'
	echo "$summary" | jq -e '.changes | map(select(.path == "/bin/true" and .kind == "deleted")) | length == 1'
	[ ! -e "$ROOTFS/etc/agent-note" ] && [ -e "$ROOTFS/bin/true" ]
	nothing_left "$id"
	# A second sandbox starts from the image again.
	run --separate-stderr agent -- sh -c 'test -e /etc/agent-note && echo leaked || echo clean'
	[ "$output" = "clean" ]
}

@test "agent run: /input is read-only, /output persists and is handed back to its owner" {
	run --separate-stderr agent --input "$IN" --output "$OUT" -- sh -c 'cat /input/a.txt; touch /input/new 2>/dev/null && echo input-writable; mkdir /output/d && echo made >/output/d/f; id -u'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello from the host" ]
	[ "${lines[1]}" = "0" ]
	[ ! -e "$IN/new" ]
	[ "$(cat "$OUT/d/f")" = "made" ]
	# Owned by the output directory's owner (root here), not by the sandbox's host ids.
	[ "$(stat -c %u:%g "$OUT/d/f")" = "$(stat -c %u:%g "$OUT")" ]
	[ "$(stat -c %u "$OUT")" = "0" ]
}

@test "agent run: root inside cannot open a host-owned file through any mount" {
	echo secret >"$IN/secret"
	chmod 0600 "$IN/secret"
	mkdir -p "$OUT"
	echo host >"$OUT/host-file"
	chmod 0600 "$OUT/host-file"
	run --separate-stderr agent --input "$IN" --output "$OUT" -- sh -c '
		cat /input/secret 2>/dev/null && echo read-input-secret
		cat /output/host-file 2>/dev/null && echo read-output-file
		echo x 2>/dev/null >/output/host-file && echo wrote-output-file
		cat /proc/1/root/etc/hostname 2>/dev/null | grep -q sandbox || true
		echo done'
	[ "$status" -eq 0 ]
	[ "$output" = "done" ]
	[ "$(cat "$OUT/host-file")" = "host" ]
	[ "$(stat -c %u "$OUT/host-file")" = "0" ]
}

@test "agent run: /scratch is size-capped; the disk limit stops a writer on the root with ENOSPC" {
	cat >"$TEST_TMP/small.yaml" <<-'YAML'
		filesystem:
		  scratch: 4Mi
		limits:
		  disk: 8Mi
		  timeout: 60s
	YAML
	run --separate-stderr agent --policy "$TEST_TMP/small.yaml" -- sh -c '
		dd if=/dev/zero of=/scratch/big bs=1M count=16 2>/dev/null || echo scratch-full
		dd if=/dev/zero of=/big bs=1M count=32 2>&1 | grep -o "No space left on device" | head -n1
		ls -l /big | awk "{ print (\$5 <= 8388608) }"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "scratch-full" ]
	[ "${lines[1]}" = "No space left on device" ]
	[ "${lines[2]}" = "1" ]
	# The root was full when the command ended: the limit is named in the summary.
	echo "$stderr" | tail -n1 | jq -e '.limitsHit == ["disk (the root'"'"'s 8Mi filled up)"]'
}

@test "agent run: a timeout exits 124 and leaves no process, mount or cgroup" {
	local id="sbx-$$-t"
	# Durations no other suite uses (this shell's pid in them), so that the check
	# below sees only this sandbox's processes when suites run side by side.
	local a="3$$" b="4$$"
	run --separate-stderr agent --id "$id" --timeout 1s -- sh -c "sleep $a & sleep $b; echo not-reached"
	[ "$status" -eq 124 ]
	[ "$output" = "" ]
	echo "$stderr" | tail -n1 | jq -e '.limitsHit == ["timeout (1s)"]'
	! pgrep -f "sleep ($a|$b)\$" || false
	nothing_left "$id"
}

# An engine's spec with a deadline (the policy's limits.timeout): the warden kills the
# container at it. `run`, which waits for the init itself, says so with timeout(1)'s 124
# (as `agent run` does); a detached container is stopped with the SIGKILL's 137, which is
# all its engine can see; the audit log's warden report says timeout either way.
@test "run and create of a spec whose policy has a deadline: killed at it; run exits 124, the audit log says timeout" {
	local id="sbx-$$-dl" log="$TEST_TMP/dl.audit.jsonl"
	config '.annotations = {"io.safehouse.policy": "deadline", "io.safehouse.limits.disk": "67108864",
		"io.safehouse.limits.timeout": "1", "io.safehouse.audit": $log} | .process.args = ["sleep", "3\($pid)"]' \
		--arg log "$log" --arg pid "$$"
	local started=$SECONDS
	run rt run "$id" -b "$BUNDLE" </dev/null
	[ "$status" -eq 124 ]
	[ $((SECONDS - started)) -lt 20 ]
	wait_for 10 sh -c "jq -e -s 'map(.kind) | index(\"delete\")' '$log' >/dev/null"
	"$RUNTIME" audit verify "$log"
	jq -e -s 'map(select(.kind == "warden")) | .[0].details.report.reason == "timeout"' "$log"
	jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 137, "signal": 9}' "$log"
	nothing_left "$id"
	# Detached (an engine's create and start): stopped, 137 for whoever reaps it.
	rm -f "$log" "$log.head"
	rt create "$id" -b "$BUNDLE" </dev/null >/dev/null 2>&1
	rt start "$id"
	wait_for 20 sh -c "[ \"\$('$RUNTIME' --root '$ROOT' state '$id' | jq -r .status)\" = stopped ]"
	rt delete "$id"
	jq -e -s 'map(select(.kind == "warden")) | .[0].details.report.reason == "timeout"' "$log"
	jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 137, "signal": 9}' "$log"
	nothing_left "$id"
}

@test "agent run: the memory limit holds (137, reported)" {
	cat >"$TEST_TMP/tight.yaml" <<-'YAML'
		limits:
		  memory: 32Mi
		  timeout: 60s
	YAML
	run --separate-stderr agent --policy "$TEST_TMP/tight.yaml" -- sh -c 'x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x="$x$x"; done'
	[ "$status" -eq 137 ]
	echo "$stderr" | tail -n1 | jq -e '.limitsHit | map(select(startswith("memory"))) | length == 1'
}

@test "agent run: the pids limit stops a fork loop" {
	cat >"$TEST_TMP/tight.yaml" <<-'YAML'
		limits:
		  pids: 16
		  timeout: 60s
	YAML
	# A loop that forks without end: the limit stops it long before the timeout. Natively
	# the forks fail at the limit (busybox sh gives up: a non-zero exit). Under gVisor the
	# limit is the host's with gVisor's headroom (GvisorPidsHeadroom: 176 host tasks for
	# 16), and on the ptrace platform a fork the host refuses ends the whole sandbox (the
	# sentry cannot make the new process's stub): stopped all the same, and recorded.
	SECONDS=0
	run --separate-stderr agent --policy "$TEST_TMP/tight.yaml" -- sh -c 'while :; do sleep 30 & done; echo all-forked'
	[ "$status" -ne 0 ]
	[ "$output" != "all-forked" ]
	[ "$SECONDS" -lt 50 ]
	if [ "${SAFEHOUSE_BACKEND:-}" != gvisor ]; then echo "$stderr" | grep -q "can't fork"; fi
	echo "$stderr" | tail -n1 | jq -e '.limitsHit | map(select(startswith("pids"))) | length == 1'
}

@test "agent run: the pids limit counts the sandbox's own processes: pids 64 runs a pipeline of 10 and 30 background sleeps" {
	cat >"$TEST_TMP/p64.yaml" <<-'YAML'
		limits:
		  pids: 64
		  timeout: 60s
	YAML
	# Under gVisor the host cgroup also holds runsc's own tasks and, on ptrace, several per
	# process; the headroom (GvisorPidsHeadroom) keeps 64 meaning the sandbox's processes.
	run --separate-stderr agent --policy "$TEST_TMP/p64.yaml" -- sh -c '
		seq 100 | cat | cat | cat | cat | cat | cat | cat | grep 0 | tr 0 x | wc -l
		i=0 started=""; while [ $i -lt 30 ]; do sleep 20 & started="$started $!"; i=$((i + 1)); done
		alive=0; for p in $started; do kill -0 $p && alive=$((alive + 1)); done
		echo "running: $alive"
		kill $started'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "10" ]
	[ "${lines[1]}" = "running: 30" ]
	echo "$stderr" | tail -n1 | jq -e '.limitsHit == []'
}

@test "agent run: the agent seccomp profile refuses mount and new user namespaces; offline-strict keeps the root read-only" {
	run --separate-stderr agent -- sh -c 'unshare -U true 2>/dev/null && echo userns; mount -t tmpfs none /mnt 2>/dev/null && echo mounted; echo ok'
	[ "$status" -eq 0 ]
	[ "$output" = "ok" ]
	run --separate-stderr agent --policy offline-strict -- sh -c 'echo x >/etc/x 2>/dev/null && echo wrote-root; echo y >/scratch/y && cat /scratch/y'
	[ "$status" -eq 0 ]
	[ "$output" = "y" ]
}

@test "agent run: bad input fails with one line naming the field, and leaves nothing" {
	printf 'limits:\n  memroy: 1Gi\n' >"$TEST_TMP/bad.yaml"
	run agent --id "sbx-$$-bad" --policy "$TEST_TMP/bad.yaml" -- true
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: policy $TEST_TMP/bad.yaml: limits.memroy: unknown key (known: cpus, disk, memory, pids, timeout)" ]
	run agent --timeout soon -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *'--timeout: "soon" is not a duration'* ]]
	run agent --input /nonexistent-dir -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *"--input: /nonexistent-dir is not a directory"* ]]
	run agent --id "sbx-$$-bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"a command is required"* ]]
	nothing_left "sbx-$$-bad"
	[ -z "$("$RUNTIME" --root "$ROOT" list -q)" ]
}

# The observations docs/engines.md's table lists for each path: podman.bats and
# cri.bats make the same through an engine's spec carrying only the annotation.
@test "agent run: the default policy seen from inside: uid map, capabilities, no_new_privs, seccomp, limits" {
	run --separate-stderr agent -- sh -c "$POLICY_PROBE"
	[ "$status" -eq 0 ]
	# No cgroup mount in the generated spec: the limits are seen from outside (the
	# memory and pids tests above).
	policy_probe_ok "$output" "$POLICY_CAPEFF" unseen
}

@test "agent spec: the generated spec runs under runc too" {
	command -v runc >/dev/null || skip "runc is not installed"
	"$RUNTIME" agent spec --rootfs "$ROOTFS" --input "$IN" -- sh -c 'cat /input/a.txt; id -u; echo x >/scratch/x && echo scratch-ok' >"$BUNDLE/config.json"
	jq -e '.annotations["io.safehouse.policy"] == "default" and (.linux.namespaces | map(.type) | index("user"))' "$BUNDLE/config.json"
	run runc --root "$REF_ROOT" run --bundle "$BUNDLE" "sbx-runc-$$"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from the host
0
scratch-ok" ]
}

@test "engines: a plain bundle annotated io.safehouse.policy gets the whole policy; the bundle's config.json is not rewritten; exec too" {
	config '.annotations["io.safehouse.policy"] = "default" | .process.noNewPrivileges = false'
	cmd "$POLICY_PROBE"
	cp "$BUNDLE/config.json" "$TEST_TMP/engine.json"
	run --separate-stderr rt run --bundle "$BUNDLE" "sbx-$$-w"
	[ "$status" -eq 0 ]
	# The bundle grants AUDIT_WRITE, KILL, NET_BIND_SERVICE: the policy keeps the last two.
	policy_probe_ok "$output" 0000000000000420
	cmp "$BUNDLE/config.json" "$TEST_TMP/engine.json"
	nothing_left "sbx-$$-w"
	# exec with an engine's own process (more capabilities, no no_new_privs): the policy's.
	cmd 'sleep 30'
	rt run -d --bundle "$BUNDLE" "sbx-$$-x" </dev/null >/dev/null 2>&1
	jq --arg s "$POLICY_PROBE" '.process | .args = ["sh", "-c", $s] | .noNewPrivileges = false |
		.capabilities = ({bounding: ["CAP_SYS_ADMIN", "CAP_KILL"]} | .effective = .bounding | .permitted = .bounding)' \
		"$BUNDLE/config.json" >"$TEST_TMP/process.json"
	run --separate-stderr rt exec --process "$TEST_TMP/process.json" "sbx-$$-x"
	[ "$status" -eq 0 ]
	echo "$output" | grep -qxE 'CapEff:[[:space:]]+0000000000000020'
	echo "$output" | grep -qxE 'NoNewPrivs:[[:space:]]+1'
	echo "$output" | grep -qxE 'Seccomp:[[:space:]]+2'
	echo "$output" | grep -qx 'unshare -U: refused'
	rt delete -f "sbx-$$-x"
	nothing_left "sbx-$$-x"
	# An engine's mapping of host root is refused, naming the field; nothing is left.
	config '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}] |
		.linux.gidMappings = .linux.uidMappings'
	run rt run --bundle "$BUNDLE" "sbx-$$-r"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.uidMappings: container uid 0 is host root"* ]]
	[ "$(echo "$output" | wc -l)" = 1 ]
	nothing_left "sbx-$$-r"
}

# No network namespace in an engine's spec (Podman's --network host, a pod's
# hostNetwork): the container would share the host's, every interface of it, where the
# default policy allows no network. Refused in one line naming the policy, on both
# backends, before anything is made; the same spec without the policy runs.
@test "engines: an annotated bundle without a network namespace (the host's) is refused, naming the policy; nothing is left" {
	local backend
	config '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")] | .process.args = ["true"]'
	run rt run --bundle "$BUNDLE" "sbx-$$-h0"
	[ "$status" -eq 0 ]
	for backend in native gvisor; do
		[ "$backend" = native ] || command -v runsc >/dev/null || skip "runsc is not installed"
		config '.annotations["io.safehouse.policy"] = "default" | .annotations["io.safehouse.backend"] = $b
			| .annotations["io.safehouse.audit"] = $a' --arg b "$backend" --arg a "$TEST_TMP/h-$backend.audit.jsonl"
		run rt run --bundle "$BUNDLE" "sbx-$$-h$backend"
		echo "# $output" >&2
		[ "$status" -eq 1 ]
		[ "$output" = "$(printf '%s' "safehouse: egress: policy \"default\" allows no network, and the container shares the host's network namespace (linux.namespaces has no network entry, so the container would share it): it would keep every interface of the host; give the container a network namespace of its own (not Podman's --network host, not a pod with hostNetwork), where the policy leaves it loopback only, or what a network.allow in the policy names")" ]
		nothing_left "sbx-$$-h$backend"
		[ ! -e "$TEST_TMP/h-$backend.audit.jsonl" ]
	done
	# A path to the host's own namespace is the host's namespace too.
	config '.annotations["io.safehouse.backend"] = "native" | .linux.namespaces += [{"type": "network", "path": $p}]' --arg p "/proc/$$/ns/net"
	run rt run --bundle "$BUNDLE" "sbx-$$-hp"
	echo "# $output" >&2
	[ "$status" -eq 1 ]
	[[ "$output" == *'egress: policy "default" allows no network, and the container shares the host'"'"'s network namespace (linux.namespaces network path /proc/'"$$"'/ns/net is the host'"'"'s own)'* ]]
	nothing_left "sbx-$$-hp"
}

# runsc loads one seccomp profile and runs the sentry, not the host kernel: there the
# policy's profile stands in only where the engine set none, and no host user
# namespace is added (docs/engines.md).
@test "engines: on the gvisor backend an annotated bundle gets the policy's capabilities and profile, with no host user namespace; an engine's own profile stays alone" {
	command -v runsc >/dev/null || skip "runsc is not installed"
	config '.annotations["io.safehouse.policy"] = "default" | .annotations["io.safehouse.backend"] = "gvisor" | .process.noNewPrivileges = false'
	cmd "$POLICY_PROBE"
	run --separate-stderr rt run --bundle "$BUNDLE" "sbx-$$-g"
	echo "$output" | sed 's/^/# /' >&2
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | sed -n 1p | tr -s ' ' | sed 's/^ //')" = "0 0 4294967295" ]
	echo "$output" | grep -qxE 'CapEff:[[:space:]]+0000000000000420'
	echo "$output" | grep -qxE 'Seccomp:[[:space:]]+2'
	echo "$output" | grep -qx 'unshare -U: refused'
	nothing_left "sbx-$$-g"
	config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	run --separate-stderr rt run --bundle "$BUNDLE" "sbx-$$-g2"
	echo "$output" | sed 's/^/# /' >&2
	[ "$status" -eq 0 ]
	echo "$output" | grep -qx 'unshare -U: allowed'
	nothing_left "sbx-$$-g2"
}

@test "agent explain: what the policy changes in an engine's config.json, one line each; bad input names the file or field" {
	config '.annotations["io.safehouse.policy"] = "default" | .process.noNewPrivileges = false'
	run --separate-stderr rt agent explain "$BUNDLE/config.json"
	[ "$status" -eq 0 ]
	echo "$output" | grep -qx 'process.noNewPrivileges: false -> true'
	echo "$output" | grep -qx 'linux.resources.pids.limit: unlimited -> 256'
	echo "$output" | grep -qx 'linux.resources.memory.limit: unlimited -> 1073741824'
	echo "$output" | grep -q '^linux.namespaces: no user namespace -> user namespace, ids 0-65535 -> host '
	echo "$output" | grep -q "^linux.seccomp: .*the policy's agent profile"
	# Every line is FIELD: WAS -> NOW.
	[ -z "$(echo "$output" | grep -vE '^[a-zA-Z.]+: .* -> ')" ]
	# Then what the runtime adds around the spec, always these four, in this order: the
	# ephemeral root, the deadline, the network, the audit log.
	[ "$(echo "$output" | tail -4 | cut -d: -f1 | tr '\n' ' ')" = "root.path limits.timeout network.allow audit " ]
	echo "$output" | grep -qx "root.path: $ROOTFS -> an ephemeral overlay over $ROOTFS, its writes in a tmpfs of 1Gi (limits.disk), gone at delete"
	echo "$output" | grep -qx 'limits.timeout: none -> 10m from start: the warden kills the container (SIGKILL: engines see 137, `run` exits 124) and the audit log says timeout'
	echo "$output" | grep -qx 'network.allow: a new network namespace -> loopback only (the policy allows nothing)'
	echo "$output" | grep -qx 'audit: none -> /var/log/safehouse/<container id>.audit.jsonl (a hash-chained log: create, start, exit, delete, the warden'"'"'s report, egress decisions)'
	# Stable: the same config gives the same output.
	[ "$(rt agent explain "$BUNDLE/config.json" 2>/dev/null)" = "$output" ]
	# An allowlist (web): the proxy variables where the engine set none, the network as
	# the spec has it (a pod's namespace by path: shared, one policy), the log it names.
	config '.annotations["io.safehouse.audit"] = "/tmp/engine.audit.jsonl" | .linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = "/var/run/netns/pod" else . end]'
	run --separate-stderr rt agent explain --policy web "$BUNDLE/config.json"
	[ "$status" -eq 0 ]
	echo "$output" | grep -qx 'process.env: no HTTP_PROXY -> HTTP_PROXY=http://127.0.0.1:3128'
	echo "$output" | grep -qx 'process.env: no ALL_PROXY -> ALL_PROXY=socks5h://127.0.0.1:1080'
	echo "$output" | grep -qx 'limits.timeout: none -> 30m from start: .*'
	echo "$output" | grep -qx 'network.allow: network namespace /var/run/netns/pod -> only pypi.org,.* through the warden (network.mode both: .*); the first sandbox of that namespace serves it, and one whose policy differs is refused'
	echo "$output" | grep -qx 'audit: none -> /tmp/engine.audit.jsonl (.*)'
	# The same namespace under the default policy (no allowlist): served, everything refused.
	run --separate-stderr rt agent explain "$BUNDLE/config.json"
	echo "$output" | grep -qx 'network.allow: network namespace /var/run/netns/pod -> every outbound connection and DNS query refused by the warden and recorded, loopback kept (the policy allows nothing); .*'
	# No network namespace in the spec: an allowlist there is refused at create.
	config 'del(.annotations["io.safehouse.audit"]) | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]'
	run --separate-stderr rt agent explain --policy web "$BUNDLE/config.json"
	echo "$output" | grep -qx "network.allow: the host's network namespace -> refused at create (.*)"
	# And so is the default policy there (no network, where the host's is all of it).
	run --separate-stderr rt agent explain "$BUNDLE/config.json"
	echo "$output" | grep -qx "network.allow: the host's network namespace -> refused at create (the policy allows no network, and the container would keep every interface of the host; give it a network namespace of its own)"
	config '.linux.namespaces += [{"type": "network"}]'
	# --policy tries another: offline-strict keeps no capability and the minimal profile.
	run --separate-stderr rt agent explain --policy offline-strict "$BUNDLE/config.json"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q '^process.capabilities.bounding: .* -> none$'
	echo "$output" | grep -q "^linux.seccomp: .*the policy's minimal profile"
	# A generated spec is the policy already: nothing to change, said on stderr.
	"$RUNTIME" agent spec --rootfs "$ROOTFS" -- true >"$TEST_TMP/generated.json"
	run --separate-stderr rt agent explain "$TEST_TMP/generated.json"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"created as it is"* ]]
	# Bad input: one line naming the file or the field, exit 1.
	run rt agent explain "$TEST_TMP/missing.json"
	[ "$status" -eq 1 ]
	[[ "$output" == "safehouse: agent explain: $TEST_TMP/missing.json: "* ]]
	[ "${#lines[@]}" = 1 ]
	echo '{"ociVersion": "1.2.0", "process": ' >"$TEST_TMP/broken.json"
	run rt agent explain "$TEST_TMP/broken.json"
	[ "$status" -eq 1 ]
	[[ "$output" == "safehouse: agent explain: $TEST_TMP/broken.json: "* ]]
	[ "${#lines[@]}" = 1 ]
	config 'del(.annotations)'
	run rt agent explain "$BUNDLE/config.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"annotations.io.safehouse.policy: not set (name a policy with --policy)" ]]
	run rt agent explain --policy nosuch "$BUNDLE/config.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *'--policy: policy "nosuch": no such profile'* ]]
	[ "${#lines[@]}" = 1 ]
	config '.annotations["io.safehouse.policy"] = "default" | .linux.namespaces += [{"type": "user"}] |
		.linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}] | .linux.gidMappings = .linux.uidMappings'
	run rt agent explain "$BUNDLE/config.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.uidMappings: container uid 0 is host root"* ]]
}

# running ID: wait up to 10 s for sandbox ID to be running.
running() {
	local n=100
	while [ "$n" -gt 0 ]; do
		[ "$("$RUNTIME" --root "$ROOT" state "$1" 2>/dev/null | jq -r .status)" = running ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

@test "agent stop-all: kills every sandbox at once; their runs exit 137 and say so" {
	# Job specs (%1) do not work under BATS_TEST_TIMEOUT: wait on pids.
	local i pids=()
	for i in 1 2; do
		agent --id "sbx-$$-s$i" -- sleep 60 2>"$TEST_TMP/s$i.err" &
		pids+=($!)
	done
	for i in 1 2; do
		running "sbx-$$-s$i"
	done
	run "$RUNTIME" --root "$ROOT" agent stop-all
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c "^sbx-$$-s")" -eq 2 ]
	for i in 1 2; do
		wait "${pids[$((i - 1))]}" && code=0 || code=$?
		[ "$code" -eq 137 ]
		tail -n1 "$TEST_TMP/s$i.err" | jq -e '.limitsHit == ["stopped (emergency stop)"]'
		nothing_left "sbx-$$-s$i"
	done
}

@test "engines: a plain bundle annotated io.safehouse.policy gets the ephemeral root" {
	config '.annotations["io.safehouse.policy"] = "default" | .root.readonly = false'
	cmd 'grep " / / " /proc/self/mountinfo | grep -o " - overlay " ; echo x >/engine-note && echo wrote'
	run rt run --bundle "$BUNDLE" "sbx-$$-e"
	[ "$status" -eq 0 ]
	[ "$output" = " - overlay 
wrote" ]
	[ ! -e "$ROOTFS/engine-note" ]
	nothing_left "sbx-$$-e"
	config '.annotations["io.safehouse.policy"] = "nosuch"'
	run rt run --bundle "$BUNDLE" "sbx-$$-e2"
	[ "$status" -eq 1 ]
	[[ "$output" == *'annotations.io.safehouse.policy: policy "nosuch": no such profile'* ]]
	nothing_left "sbx-$$-e2"
}

@test "warden: SIGTERM to a sandbox's warden stops the sandbox (137, stopped)" {
	local id="sbx-$$-w" warden pid
	agent --id "$id" -- sleep 60 2>"$TEST_TMP/w.err" &
	pid=$!
	running "$id"
	warden="$(jq -r .wardenPid "$ROOT/$id/state.json")"
	[ "$warden" -gt 0 ]
	grep -q safehouse-warden "/proc/$warden/cmdline"
	# The warden is not in the sandbox's cgroups (a cgroup-wide kill spares it).
	! grep -qx "$warden" /sys/fs/cgroup/pids/*/"$id"/cgroup.procs /sys/fs/cgroup/pids/"$id"/cgroup.procs 2>/dev/null || false
	kill -TERM "$warden"
	wait "$pid" && code=0 || code=$?
	[ "$code" -eq 137 ]
	tail -n1 "$TEST_TMP/w.err" | jq -e '.limitsHit == ["stopped (emergency stop)"]'
	# Gone (a zombie waiting for the process that inherited it counts as gone).
	! kill -0 "$warden" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$warden/stat" 2>/dev/null)" = Z ] || [ ! -e "/proc/$warden" ]
	nothing_left "$id"
}

@test "warden: a warden killed mid-run fails closed: the sandbox is stopped (137, said so)" {
	local id="sbx-$$-k" warden pid
	agent --id "$id" -- sleep 60 2>"$TEST_TMP/k.err" &
	pid=$!
	running "$id"
	warden="$(jq -r .wardenPid "$ROOT/$id/state.json")"
	kill -KILL "$warden"
	wait "$pid" && code=0 || code=$?
	[ "$code" -eq 137 ]
	tail -n1 "$TEST_TMP/k.err" | jq -e '.limitsHit == ["stopped (the warden died)"]'
	# And on the record: the stop is a limit record of the sandbox's audit log.
	"$RUNTIME" audit show "$id" --kind limit --format json | jq -e -s 'map(.details.limit) == ["stopped (the warden died)"]'
	"$RUNTIME" audit verify "$id"
	nothing_left "$id"
}

# agent_in_background ID CMD: `agent run` writing /output, the runtime itself in the
# background (not the `agent` function, whose $! would be a subshell), so that a
# SIGKILL reaches `agent run`; sets AGENT_PID once the sandbox runs and has written.
agent_in_background() {
	local id="$1"
	shift
	mkdir -p "$OUT"
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --rootfs "$ROOTFS" --summary none \
		--output "$OUT" --id "$id" -- sh -c 'mkdir /output/d && echo made >/output/d/f && sleep 60' 2>/dev/null &
	AGENT_PID=$!
	running "$id"
	# Written into the run's bounded /output zone; the directory itself gets it only
	# when the sandbox is gone (the copy back).
	wait_for 10 test -f "/run/safehouse-agent/$id/output-zone/upper/d/f"
	grep -q safehouse "/proc/$AGENT_PID/cmdline"
	[ ! -e "$OUT/d" ]
}

@test "agent run killed with SIGKILL: its warden stops the sandbox and removes it, /output is copied back to its owner, the log says why" {
	local id="sbx-$$-x"
	agent_in_background "$id"
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" || true
	wait_for 10 test ! -e "$ROOT/$id"
	wait_for 10 nothing_left "$id"
	[ "$(cat "$OUT/d/f")" = made ]
	[ "$(stat -c %u:%g "$OUT" "$OUT/d" "$OUT/d/f" | sort -u)" = "0:0" ]
	"$RUNTIME" audit show "$id" --kind warden --format json | jq -e -s 'map(.details.report.reason) == ["abandoned"]'
	"$RUNTIME" audit show "$id" --kind delete --format json | jq -e -s 'length == 1'
	"$RUNTIME" audit verify "$id"
}

@test "agent run and its warden both killed: delete --force copies /output back and removes the sandbox and its generated bundle" {
	local id="sbx-$$-y" warden
	agent_in_background "$id"
	warden="$(jq -r .wardenPid "$ROOT/$id/state.json")"
	kill -KILL "$AGENT_PID" "$warden"
	wait "$AGENT_PID" || true
	[ -f "/run/safehouse-agent/$id/config.json" ]
	"$RUNTIME" --root "$ROOT" delete --force "$id"
	nothing_left "$id"
	[ "$(cat "$OUT/d/f")" = made ]
	[ "$(stat -c %u:%g "$OUT" "$OUT/d" "$OUT/d/f" | sort -u)" = "0:0" ]
}
