#!/usr/bin/env bats
# Hooks: all six kinds, in order, each with the state on stdin; timeouts; failures.
# Host-side hooks are a shell script that reads the state with jq; startContainer runs
# inside the container (path resolved there), so it is busybox sh with sed.

load helpers

# Write $TEST_TMP/hook.sh (host side) and point every hook kind at it (startContainer
# at an in-container busybox script). Each hook appends one line to the log:
#   "<kind> <status> <pid is a number> <bundle matches> <FOO from the hook's env>"
setup_hooks() {
	mkdir -p "$TEST_TMP/hooklog"
	chmod 0777 "$TEST_TMP/hooklog"
	HOOKLOG="$TEST_TMP/hooklog/log"
	cat >"$TEST_TMP/hook.sh" <<'HOOK'
#!/bin/sh
state="$(cat)"
st="$(echo "$state" | jq -r .status)"
pid="$(echo "$state" | jq -r '.pid | type')"
bundle="$(echo "$state" | jq -r '.bundle')"
[ "$bundle" = "$HOOK_BUNDLE" ] && b=bundle-ok || b="bundle=$bundle"
echo "$1 $st $pid $b FOO=${FOO:-unset}" >>"$HOOK_LOG"
HOOK
	chmod +x "$TEST_TMP/hook.sh"
	# In the container: no jq; the state is one line of JSON.
	local incontainer='st=$(sed -n "s/.*\"status\": *\"\([a-z]*\)\".*/\1/p"); echo "startContainer $st - - FOO=${FOO:-unset}" >>/hooklog/log'
	config '.mounts += [{destination: "/hooklog", type: "bind", source: $dir, options: ["rbind", "rw"]}]
		| .process.args = ["sh", "-c", "echo main >>/hooklog/log"]
		| def h(k): {path: $hook, args: ["hook.sh", k], env: ["FOO=" + k, "HOOK_LOG=" + $log, "HOOK_BUNDLE=" + $bundle, "PATH=/usr/bin:/bin"]};
		  .hooks = {
			prestart: [h("prestart")],
			createRuntime: [h("createRuntime")],
			createContainer: [h("createContainer")],
			startContainer: [{path: "/bin/sh", args: ["sh", "-c", $inc], env: ["FOO=sc"]}],
			poststart: [h("poststart")],
			poststop: [h("poststop")]}' \
		--arg dir "$TEST_TMP/hooklog" --arg hook "$TEST_TMP/hook.sh" --arg log "$HOOKLOG" \
		--arg bundle "$BUNDLE" --arg inc "$incontainer"
}

@test "hooks: all six kinds, order and the state each one sees (run)" {
	setup_hooks
	: >"$HOOKLOG"
	ref run --bundle "$BUNDLE" "$(new_id)" </dev/null
	cp "$HOOKLOG" "$TEST_TMP/ref.log"
	: >"$HOOKLOG"
	rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	cp "$HOOKLOG" "$TEST_TMP/rt.log"

	# runc 1.1 runs poststart hooks before it releases the container process (in
	# fact at the end of create) and reports status "created" to them; the
	# runtime-spec wants them after the process started. So poststart is compared
	# apart, see the next tests. The poststop state has no pid (runc omits it; `runc
	# state` of a stopped container says "pid": 0).
	# runc 1.1 also tells prestart, createRuntime and createContainer "creating"; the
	# runtime-spec (runtime.md) has "creating" for lifecycle step 2 only, and those
	# hooks are steps 3 to 5: "created" (see the next test). Compared apart too.
	grep -v '^poststart ' "$TEST_TMP/ref.log" |
		sed -E 's/^(prestart|createRuntime|createContainer) creating /\1 created /' >"$TEST_TMP/ref.cmp"
	grep -v '^poststart ' "$TEST_TMP/rt.log" >"$TEST_TMP/rt.cmp"
	if runtime_is_runc11; then
		sed -i -E 's/^(prestart|createRuntime|createContainer) creating /\1 created /' "$TEST_TMP/rt.cmp"
	fi
	diff -u "$TEST_TMP/ref.cmp" "$TEST_TMP/rt.cmp" >&2
	if ! runtime_is_runc11; then
		[ "$(cat "$TEST_TMP/rt.cmp")" = "prestart created number bundle-ok FOO=prestart
createRuntime created number bundle-ok FOO=createRuntime
createContainer created number bundle-ok FOO=createContainer
startContainer created - - FOO=sc
main
poststop stopped null bundle-ok FOO=poststop" ]
	fi
	# poststart ran exactly once, between createContainer and poststop, with a pid.
	[ "$(grep -c '^poststart ' "$TEST_TMP/rt.log")" = 1 ]
	run grep -n '' "$TEST_TMP/rt.log"
	[[ "${lines[3]}" == *poststart* || "${lines[4]}" == *poststart* || "${lines[5]}" == *poststart* ]]
	grep -q '^poststart [a-z]* number bundle-ok FOO=poststart$' "$TEST_TMP/rt.log"
}

@test "hooks: prestart and the create hooks see status created and the init's pid (runtime-spec)" {
	# runtime-spec runtime.md: "creating" is lifecycle step 2; prestart (step 3),
	# createRuntime (4) and createContainer (5) come after it. runtime-tools'
	# hooks_stdin validation wants "created" for prestart, with the pid `state` gives.
	# runc 1.1 (here) passes "creating": known deviation, not copied.
	if runtime_is_runc11; then skip "runc 1.1 passes status creating to prestart hooks"; fi
	local save='cat >"$0"'
	config '.hooks = {
			prestart: [{path: "/bin/sh", args: ["sh", "-c", $save, $d + "/prestart"]}],
			createRuntime: [{path: "/bin/sh", args: ["sh", "-c", $save, $d + "/createRuntime"]}],
			createContainer: [{path: "/bin/sh", args: ["sh", "-c", $save, $d + "/createContainer"]}]}
		| .annotations = {"org.example.hook": "stdin"}
		| .process.args = ["true"]' --arg save "$save" --arg d "$TEST_TMP"
	local id
	id="$(new_id)"
	rt create --bundle "$BUNDLE" "$id" </dev/null
	local pid
	pid="$(rt state "$id" | jq .pid)"
	local kind kinds="prestart createRuntime createContainer"
	# Under gVisor createContainer would run in the sentry's namespaces: runsc does
	# not run it (gvisor-subset.txt); the host-side two still hold.
	[ "${SAFEHOUSE_BACKEND:-native}" = native ] || kinds="prestart createRuntime"
	for kind in $kinds; do
		echo "# $kind: $(cat "$TEST_TMP/$kind")" >&2
		[ "$(jq -r .status "$TEST_TMP/$kind")" = created ]
		[ "$(jq .pid "$TEST_TMP/$kind")" = "$pid" ]
		[ "$(jq -r .id "$TEST_TMP/$kind")" = "$id" ]
		[ "$(jq -r .bundle "$TEST_TMP/$kind")" = "$BUNDLE" ]
		[ "$(jq -r '.annotations["org.example.hook"]' "$TEST_TMP/$kind")" = stdin ]
	done
}

@test "hooks: a failing hook's error keeps runc's \"error running hook\" and names the hook" {
	config '.hooks = {prestart: [{path: "/bin/true"}, {path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]} | .process.args = ["true"]'
	run_both
	[ "$ref_status" = 1 ]
	[[ "$ref_err" == *"error running hook #1"* ]]
	echo "# $rt_err" >&2
	[[ "$rt_err" == *"error running hook #1"* ]]
	# runc 1.1 names neither the kind nor the path.
	runtime_is_runc11 && return 0
	[[ "$rt_err" == *"prestart"* ]]
	[[ "$rt_err" == *"/bin/sh"* ]]
	[[ "$rt_err" == *"exit status 3"* ]]
}

@test "hooks: poststart runs after startContainer and sees running (runtime-spec)" {
	# runtime-spec: poststart hooks run after the user process has started, before
	# start returns. runc 1.1 (here) runs them first, with status "created": known
	# deviation, not copied by safehouse.
	if runtime_is_runc11; then skip "runc 1.1 runs poststart before the process starts"; fi
	setup_hooks
	: >"$HOOKLOG"
	rt run --bundle "$BUNDLE" "$(new_id)" </dev/null
	run cat "$HOOKLOG"
	[ "${lines[3]}" = "startContainer created - - FOO=sc" ]
	grep -q '^poststart running number bundle-ok FOO=poststart$' "$HOOKLOG"
	# poststart after startContainer
	[ "$(grep -n '^poststart' "$HOOKLOG" | cut -d: -f1)" -gt 4 ]
}

@test "hooks: create, start, delete each run their own hooks" {
	setup_hooks
	config '.process.args = ["sh", "-c", "echo main >>/hooklog/log; sleep 0.2"]'
	local id
	id="$(new_id)"
	: >"$HOOKLOG"
	rt create --bundle "$BUNDLE" "$id" </dev/null
	[ "$(head -3 "$HOOKLOG" | cut -d' ' -f1 | tr '\n' ' ')" = "prestart createRuntime createContainer " ]
	! grep -q '^startContainer' "$HOOKLOG" || false
	! grep -q '^main' "$HOOKLOG" || false
	# runc 1.1 runs poststart at the end of create (spec: after start's exec).
	runtime_is_runc11 || ! grep -q '^poststart' "$HOOKLOG"
	rt start "$id"
	wait_status "$id" stopped
	grep -q '^startContainer created' "$HOOKLOG"
	grep -q '^poststart' "$HOOKLOG"
	grep -q '^main' "$HOOKLOG"
	! grep -q '^poststop' "$HOOKLOG" || false
	rt delete "$id"
	[ "$(tail -1 "$HOOKLOG")" = "poststop stopped null bundle-ok FOO=poststop" ]
}

@test "hooks: a failing prestart hook fails create and leaves nothing" {
	config '.hooks = {prestart: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]} | .process.args = ["true"]'
	run_both
	[ "$ref_status" = 1 ]
	local id
	id="$(new_id)"
	run rt create --bundle "$BUNDLE" "$id"
	[ "$status" != 0 ]
	run rt state "$id"
	[ "$status" != 0 ]
}

@test "hooks: a hook that outlives its timeout fails create" {
	config '.hooks = {createRuntime: [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]} | .process.args = ["true"]'
	local t0=$SECONDS
	run_both
	[ "$ref_status" = 1 ]
	[ $((SECONDS - t0)) -lt 20 ]
}

@test "hooks: a failing poststop hook does not change the exit code" {
	config '.hooks = {poststop: [{path: "/bin/sh", args: ["sh", "-c", "exit 5"]}]}'
	run_both '.process.args = ["sh", "-c", "exit 4"]'
	[ "$ref_status" = 4 ]
}

@test "hooks: a failing poststart hook only warns (runtime-spec)" {
	# runtime-spec: "If any poststart hook fails, the runtime MUST log a warning, but
	# the remaining hooks and lifecycle continue as if the hook had succeeded."
	# runc 1.1 instead fails `run` with exit 1 ("error running hook #0: error running
	# hook: exit status 6, stdout: , stderr: ") and the process never runs.
	config '.hooks = {poststart: [{path: "/bin/sh", args: ["sh", "-c", "exit 6"]}]}'
	config '.process.args = ["sh", "-c", "echo main; exit 2"]'
	run --separate-stderr rt run --bundle "$BUNDLE" "$(new_id)"
	if runtime_is_runc11; then
		[ "$status" = 1 ]
		[ "$output" = "" ]
	else
		[ "$status" = 2 ]
		[ "$output" = main ]
	fi
}
