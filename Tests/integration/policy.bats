#!/usr/bin/env bats
# Where a sandbox's policy comes from and what it means when it omits something:
# an annotation names only a shipped profile or the policy directory's file (never a
# host file, never through a link, never blocking on a FIFO) and errors never quote a
# file; a policy is laid over the default profile; host ids stay clear of
# /etc/subuid; timeouts are bounded; the agent command line's --env, --workdir,
# --allow, --summary-file and the global --root on `agent spec`; the summary escapes
# what the sandbox named; the create record names the command and the policy.

load helpers

setup() {
	common_setup
	SECRET="sekrit-$$-$RANDOM"
}

# spec ARGS... -- CMD...: `agent spec` under this test's root.
spec() {
	"$RUNTIME" agent spec --root "$ROOT" --rootfs "$ROOTFS" "$@"
}

# spec_json ARGS... -- CMD...: the spec alone (stderr may hold a note on mount points).
spec_json() {
	spec "$@" 2>/dev/null
}

# agent ARGS... -- CMD...: `agent run` under this test's root.
agent() {
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --rootfs "$ROOTFS" "$@"
}

@test "policy: an annotation naming a host file is refused unread, its text never echoed" {
	# A file that is not a policy, holding a secret, like /etc/shadow.
	printf '%s: x\nother-%s\n' "$SECRET" "$SECRET" >"$TEST_TMP/secret.yaml"
	config ".annotations[\"io.safehouse.policy\"] = \"$TEST_TMP/secret.yaml\""
	run rt run --bundle "$BUNDLE" "pol-$$-a"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"annotations.io.safehouse.policy: "*"an annotation may name only a profile"* ]]
	[[ "$output" != *"$SECRET"* ]]
	config '.annotations["io.safehouse.policy"] = "/etc/shadow"'
	run rt run --bundle "$BUNDLE" "pol-$$-b"
	[ "$status" -eq 1 ]
	[[ "$output" != *"root:"* ]]
	[[ "$output" == *"an annotation may name only a profile"* ]]
	[ -z "$(rt list -q)" ]
}

@test "policy: a FIFO named by an annotation or --policy fails at once instead of hanging create" {
	mkdir -p "$ROOT" "$TEST_TMP/policies"
	printf 'policies = %s\n' "$TEST_TMP/policies" >>"$ROOT/safehouse.conf"
	mkfifo "$TEST_TMP/policies/fifo.yaml"
	config '.annotations["io.safehouse.policy"] = "fifo"'
	run timeout 20 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "pol-$$-f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"fifo.yaml: is not a regular file (a FIFO)"* ]]
	run timeout 20 "$RUNTIME" agent spec --rootfs "$ROOTFS" --policy "$TEST_TMP/policies/fifo.yaml" -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *"is not a regular file (a FIFO)"* ]]
	[ -z "$(rt list -q)" ]
}

@test "policy: --policy FILE errors name the field, never the file's text; a directory or an oversized file is refused" {
	printf 'limits:\n  memory: %s\n' "$SECRET" >"$TEST_TMP/p.yaml"
	run spec --policy "$TEST_TMP/p.yaml" -- true
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: policy $TEST_TMP/p.yaml: limits.memory: not a size (use 512Mi, 1.5Gi, 100M or a number of bytes)" ]
	printf '%s: 1\n' "$SECRET" >"$TEST_TMP/p.yaml"
	run spec --policy "$TEST_TMP/p.yaml" -- true
	[ "$status" -eq 1 ]
	[[ "$output" != *"$SECRET"* ]]
	[[ "$output" == *"document: an unknown key (known: "* ]]
	run spec --policy /etc/shadow -- true
	[ "$status" -eq 1 ]
	[[ "$output" != *'$'* ]]
	mkdir "$TEST_TMP/d.yaml"
	run spec --policy "$TEST_TMP/d.yaml" -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *"d.yaml: is not a regular file (a directory)"* ]]
	head -c 2000000 /dev/zero | tr '\0' '#' >"$TEST_TMP/big.yaml"
	run spec --policy "$TEST_TMP/big.yaml" -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *"big.yaml: is larger than the 1 MiB a policy may be"* ]]
}

@test "policy: the policy directory (safehouse.conf policies =) serves annotations by name and path, never through a link" {
	mkdir -p "$ROOT" "$TEST_TMP/policies"
	printf 'limits:\n  disk: 8Mi\n' >"$TEST_TMP/policies/team.yaml"
	cmd 'df -k / | tail -n1'
	config '.annotations["io.safehouse.policy"] = "team"'
	run rt run --bundle "$BUNDLE" "pol-$$-d1"
	[ "$status" -eq 1 ]
	[[ "$output" == *'policy "team": no such profile'* ]]
	printf 'policies = %s/\n' "$TEST_TMP/policies" >>"$ROOT/safehouse.conf"
	run rt run --bundle "$BUNDLE" "pol-$$-d2"
	[ "$status" -eq 0 ]
	# The 8Mi disk limit of team.yaml sized the ephemeral root.
	[ "$(echo "$output" | awk '{print $2}')" -eq 8192 ]
	config ".annotations[\"io.safehouse.policy\"] = \"$TEST_TMP/policies/team.yaml\""
	run rt run --bundle "$BUNDLE" "pol-$$-d3"
	[ "$status" -eq 0 ]
	ln -s "$TEST_TMP/policies/team.yaml" "$TEST_TMP/policies/link.yaml"
	config '.annotations["io.safehouse.policy"] = "link"'
	run rt run --bundle "$BUNDLE" "pol-$$-d4"
	[ "$status" -eq 1 ]
	[[ "$output" == *"link.yaml: is a symbolic link"* ]]
	# agent spec --policy NAME finds it through the global --root's safehouse.conf.
	output="$(spec_json --policy team -- true)"
	[ "$(echo "$output" | jq -r '.annotations["io.safehouse.limits.disk"]')" = 8388608 ]
	[ -z "$(rt list -q)" ]
}

@test "policy: a policy that omits a section keeps the default profile's limits; unlimited removes one" {
	printf 'network:\n  allow: [example.com]\n' >"$TEST_TMP/net.yaml"
	output="$(spec_json --policy "$TEST_TMP/net.yaml" -- true)"
	echo "$output" | jq -e '.linux.resources.memory.limit == 1073741824 and .linux.resources.pids.limit == 256
		and .linux.resources.cpu.quota == 100000 and .annotations["io.safehouse.limits.timeout"] == "600.0"
		and .annotations["io.safehouse.limits.disk"] == "1073741824" and (.process.capabilities.bounding | length) == 8
		and .annotations["io.safehouse.network.allow"] == "example.com"'
	echo "$output" | jq -e '.annotations["io.safehouse.policy.effective"] | startswith("extends=default memory=1Gi cpus=1 pids=256 timeout=10m disk=1Gi")'
	printf 'extends: offline-strict\nlimits:\n  memory: unlimited\n  timeout: unlimited\n' >"$TEST_TMP/u.yaml"
	output="$(spec_json --policy "$TEST_TMP/u.yaml" -- true)"
	echo "$output" | jq -e '.linux.resources.memory == null and .linux.resources.pids.limit == 64
		and .annotations["io.safehouse.limits.timeout"] == null and .root.readonly == true'
	printf 'limits:\n  disk: unlimited\n' >"$TEST_TMP/bad.yaml"
	run spec --policy "$TEST_TMP/bad.yaml" -- true
	[ "$status" -eq 1 ]
	[[ "$output" == *"limits.disk: not a size"* ]]
	printf 'extends: nosuch\n' >"$TEST_TMP/bad.yaml"
	run spec --policy "$TEST_TMP/bad.yaml" -- true
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: policy $TEST_TMP/bad.yaml: extends: no such profile (profiles: default, offline-strict, web; or a policy in /etc/safehouse/policies (the policy directory))" ]
}

@test "policy: an annotated container's policy file is laid over the default too" {
	mkdir -p "$ROOT" "$TEST_TMP/policies"
	printf 'policies = %s\n' "$TEST_TMP/policies" >>"$ROOT/safehouse.conf"
	printf 'network:\n  maxConnections: 4\n' >"$TEST_TMP/policies/netonly.yaml"
	cmd 'df -k / | tail -n1'
	config '.annotations["io.safehouse.policy"] = "netonly"'
	run rt run --bundle "$BUNDLE" "pol-$$-o"
	[ "$status" -eq 0 ]
	# The default profile's 1Gi disk, not the 256Mi of a policy without limits.
	[ "$(echo "$output" | awk '{print $2}')" -eq 1048576 ]
}

@test "policy: an annotated container's pids limit counts its own processes: offline-strict's 64 runs 30 background sleeps" {
	# Under gVisor the engine's container gets the policy's limit with gVisor's headroom
	# (GvisorPidsHeadroom), as an agent sandbox does.
	cmd 'i=0 started=""; while [ $i -lt 30 ]; do sleep 20 & started="$started $!"; i=$((i + 1)); done
		alive=0; for p in $started; do kill -0 $p && alive=$((alive + 1)); done
		echo "running: $alive"; kill $started'
	config '.annotations["io.safehouse.policy"] = "offline-strict"'
	run rt run --bundle "$BUNDLE" "pol-$$-pids"
	[ "$status" -eq 0 ]
	[ "$output" = "running: 30" ]
}

@test "policy: the default host id range is clear of /etc/subuid and /etc/subgid" {
	output="$(spec_json -- true)"
	local first count
	first="$(echo "$output" | jq -r '.linux.uidMappings[0].hostID')"
	count="$(echo "$output" | jq -r '.linux.uidMappings[0].size')"
	[ "$first" -ge 1000000000 ]
	[ "$(echo "$output" | jq -r '.linux.gidMappings[0].hostID')" = "$first" ]
	local f name start n
	for f in /etc/subuid /etc/subgid; do
		[ -e "$f" ] || continue
		while IFS=: read -r name start n; do
			[ -n "$n" ] || continue
			[ $((start + n)) -le "$first" ] || [ "$start" -ge $((first + count)) ]
		done <"$f"
	done
	# useradd's first range is never the default.
	[ "$first" -ne 100000 ]
	printf 'user:\n  hostID: 200000\n' >"$TEST_TMP/h.yaml"
	output="$(spec_json --policy "$TEST_TMP/h.yaml" -- true)"
	[ "$(echo "$output" | jq -r '.linux.uidMappings[0].hostID')" = 200000 ]
}

@test "policy: a timeout beyond 576h is refused where it is given (policy, --timeout, annotation)" {
	printf 'limits:\n  timeout: 600h\n' >"$TEST_TMP/t.yaml"
	run spec --policy "$TEST_TMP/t.yaml" -- true
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: policy $TEST_TMP/t.yaml: limits.timeout: longer than the maximum of 576h (24 days)" ]
	run agent --timeout 700h -- true
	[ "$status" -eq 1 ]
	[ "$output" = 'safehouse: --timeout: "700h" is longer than the maximum of 576h (24 days)' ]
	config '.annotations["io.safehouse.policy"] = "default" | .annotations["io.safehouse.limits.disk"] = "16777216" | .annotations["io.safehouse.limits.timeout"] = "2200000"'
	run rt run --bundle "$BUNDLE" "pol-$$-t"
	[ "$status" -eq 1 ]
	[[ "$output" == *'annotations.io.safehouse.limits.timeout: "2200000" is longer than the maximum of 576h'* ]]
	run spec --timeout 576h -- true
	[ "$status" -eq 0 ]
	[ -z "$(rt list -q)" ]
}

@test "agent run: --env, --workdir, --summary-file; --allow adds to the allowlist" {
	run agent --summary json --summary-file "$TEST_TMP/summary.json" --env FOO=bar --env "X=a b" --env HOME=/h --workdir /tmp -- sh -c 'echo "$FOO|$X|$HOME"; pwd'
	[ "$status" -eq 0 ]
	[ "$output" = "bar|a b|/h
/tmp" ]
	jq -e '.exitCode == 0 and (.effectivePolicy.workdir == "/tmp")' "$TEST_TMP/summary.json"
	run agent --summary-file "$TEST_TMP/summary.txt" -- true
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -q '^safehouse: limits hit: none$' "$TEST_TMP/summary.txt"
	output="$(spec_json --allow example.org --allow '*.example.net' -- true)"
	echo "$output" | jq -e '.annotations["io.safehouse.network.allow"] == "example.org,*.example.net"
		and (.process.env | map(select(startswith("HTTPS_PROXY="))) | length) == 1'
	run agent --env NOEQUALS -- true
	[ "$status" -eq 1 ]
	[ "$output" = 'safehouse: --env: "NOEQUALS" is not KEY=VALUE' ]
	run agent --workdir relative -- true
	[ "$status" -eq 1 ]
	[ "$output" = 'safehouse: --workdir: "relative" must be an absolute path without ".."' ]
	run agent --allow 'exa mple.com' -- true
	[ "$status" -eq 1 ]
	[[ "$output" == 'safehouse: --allow: "exa mple.com": not a host name'* ]]
	run agent --summary-file "$TEST_TMP/missing/s.txt" -- true
	[ "$status" -eq 1 ]
	[ "$output" = "safehouse: --summary-file: $TEST_TMP/missing is not a directory" ]
	[ -z "$(rt list -q)" ]
}

@test "agent run: file names from the sandbox are escaped in the text summary" {
	run agent --summary text -- sh -c 'touch "/evil$(printf "\nsafehouse: limits hit: forged\r\033[2J")x"; touch /plain'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^safehouse: limits hit:')" -eq 1 ]
	[[ "$output" != *$'\e'* ]]
	[[ "$output" != *$'\r'* ]]
	[[ "$output" == *'created /evil\nsafehouse: limits hit: forged\r\e[2Jx (0 bytes)'* ]]
	[[ "$output" == *'created /plain (0 bytes)'* ]]
}

@test "audit: the create record carries the command and the policy name" {
	printf 'audit: %s/audit.jsonl\n' "$TEST_TMP" >"$TEST_TMP/a.yaml"
	run agent --summary none --policy "$TEST_TMP/a.yaml" -- sh -c 'exit 0'
	[ "$status" -eq 0 ]
	jq -s -e --arg p "$TEST_TMP/a.yaml" 'map(select(.kind == "create"))[0] | .details.command == ["sh", "-c", "exit 0"] and .details.policy == $p' "$TEST_TMP/audit.jsonl"
}

@test "audit show: sandbox-controlled strings (an egress host) are escaped, never printed raw" {
	local log="$TEST_TMP/show.jsonl"
	"$RUNTIME" audit append "$log" --id "pol-$$-s" --kind egress --details '{"host":"evil\u001b[2J\u009bx","port":443,"reason":"a\nforged line"}'
	run "$RUNTIME" audit show "$log" --kind egress
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" != *$'\e'* ]]
	[[ "$output" != *$'\xc2\x9b'* ]]
	[[ "$output" == *'host="evil\u001b[2J\u009bx"'* ]]
	[[ "$output" == *'reason="a\nforged line"'* ]]
}

@test "agent spec --hooks: the hook's create record carries the command and the policy name too" {
	command -v runc >/dev/null || skip "runc is not installed"
	printf 'audit: %s/hooks.jsonl\n' "$TEST_TMP" >"$TEST_TMP/h.yaml"
	spec_json --hooks --policy "$TEST_TMP/h.yaml" -- sh -c 'exit 0' >"$BUNDLE/config.json"
	run runc --root "$REF_ROOT" run --bundle "$BUNDLE" "pol-runc-$$"
	[ "$status" -eq 0 ]
	jq -s -e --arg p "$TEST_TMP/h.yaml" 'map(select(.kind == "create"))[0] | .details.command == ["sh", "-c", "exit 0"] and .details.policy == $p' "$TEST_TMP/hooks.jsonl"
}
