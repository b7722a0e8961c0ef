#!/usr/bin/env bats
# safehouse serve and the Python SDK: each pytest module of clients/python/tests against
# a real service (on its own socket, runtime root and state directory, started by the
# tests), one bats test per module. Needs safehouse-serve next to RUNTIME and the
# repository's .venv with httpx and pytest (hack/setup). pytest's output is shown when
# a module fails; each module is stopped after 110 s. With SAFEHOUSE_BACKEND=gvisor
# (hack/gvisor-tests runs the tests of this file that gvisor-subset.txt lists) the
# services the tests start give their sandboxes the gvisor backend (the files API
# reaches their files by exec inside: test_backend.py).

load helpers

setup() {
	common_setup
	case "$("$RUNTIME" --version 2>/dev/null)" in
	safehouse*) ;;
	*) skip "safehouse serve needs RUNTIME=safehouse" ;;
	esac
	[ -x "$(dirname "$RUNTIME")/safehouse-serve" ] || {
		echo "no safehouse-serve next to $RUNTIME" >&2
		return 1
	}
	PYTHON="$REPO/.venv/bin/python"
	"$PYTHON" -c 'import httpx, pytest, yaml' || {
		echo "no httpx, pytest or PyYAML in $REPO/.venv (run hack/setup)" >&2
		return 1
	}
}

teardown() { common_teardown; }

pytest_module() {
	cd "$REPO/clients/python"
	SAFEHOUSE="$RUNTIME" ROOTFS="$ROOTFS" PYTHONDONTWRITEBYTECODE=1 \
		run timeout 110 "$PYTHON" -m pytest -q -p no:cacheprovider "tests/$1"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "serve: sandboxes (create, list, get, connect, set_timeout, delete, expiry)" {
	pytest_module test_sandboxes.py
}

@test "serve: commands (argv and shell, exit codes, streaming, env and cwd, stdin, timeout, the JSON answer)" {
	pytest_module test_commands.py
}

@test "serve: pause and resume (frozen, 409 for commands, the deadline runs on, a restart keeps it paused)" {
	pytest_module test_pause.py
}

@test "serve: background commands (handles, list, kill, stdin, reconnect; a client gone mid-stream; nothing leaked)" {
	pytest_module test_background.py
}

@test "serve: events (lifecycle in order, per sandbox and for all, expiry, egress, change set, limits)" {
	pytest_module test_events.py
}

@test "serve: a sandbox's network (live allow, deny, rules and stats through the API; a client as the decider: yes, no, no answer, a client gone)" {
	pytest_module test_network.py
}

@test "serve: AsyncSandbox (the same calls with asyncio, concurrent sandboxes)" {
	pytest_module test_async.py
}

@test "serve: api/openapi.yaml and the service agree on every route" {
	pytest_module test_contract.py
}

@test "serve: files (write, read, list, mkdir, remove, 10 MiB, .., symlinks to the host, devices)" {
	pytest_module test_files.py
}

@test "serve: bad input (400 naming the field, 404, 405, nothing half made)" {
	pytest_module test_errors.py
}

@test "serve: the service (TCP and its token, restart, expiry while down, SIGKILL adopts or cleans up, agent stop-all, no descriptor leak)" {
	pytest_module test_service.py
}

@test "serve: the warm pool (served from it, refilled, the request's env, metadata and timeout, each used once, a stop or restart leaves no orphan)" {
	pytest_module test_warm.py
}

@test "serve: inline policies (a document as the policy, its limits in the sandbox, its errors by field, --no-inline-policy)" {
	pytest_module test_inline_policy.py
}

@test "serve: schemathesis fuzzes the API against api/openapi.yaml for 60 s (4xx JSON naming the field, never a 500 or a hang)" {
	pytest_module test_fuzz.py
}

@test "serve: the backend of the sandboxes (native, or gvisor: gVisor's kernel, the files API by exec with the same answers)" {
	if [ "${SAFEHOUSE_BACKEND:-native}" = gvisor ]; then
		command -v runsc >/dev/null || skip "runsc is not installed"
	fi
	pytest_module test_backend.py
}

@test "serve: examples/agent_loop.py (a stub model's code run in a sandbox, its output read back)" {
	pytest_module test_example.py
}

@test "serve: images (create from an image, a live commit run at once, list and remove, errors, --images, a restart)" {
	pytest_module test_images.py
}

@test "serve: snapshots (a sandbox saved and gone, forks that count on with their own files, list and delete, a restart, the errors; natively CRIU's refusal)" {
	pytest_module test_snapshots.py
}
