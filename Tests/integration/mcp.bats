#!/usr/bin/env bats
# safehouse mcp driven by an MCP client: the pytest modules of Tests/integration/mcp use
# the `mcp` package from PyPI (in the repository's .venv, hack/setup) to start the
# server over stdio and call its tools (test_mcp.py), and to reach /mcp on safehouse
# serve over streamable HTTP (test_mcp_http.py), in private runtime roots and state
# directories.
# One bats test per group of pytest tests; pytest's output is shown when one fails; each
# is stopped after 110 s.

load helpers

setup() {
	common_setup
	case "$("$RUNTIME" --version 2>/dev/null)" in
	safehouse*) ;;
	*) skip "safehouse mcp needs RUNTIME=safehouse" ;;
	esac
	for exe in safehouse-mcp safehouse-serve; do
		[ -x "$(dirname "$RUNTIME")/$exe" ] || {
			echo "no $exe next to $RUNTIME" >&2
			return 1
		}
	done
	PYTHON="$REPO/.venv/bin/python"
	"$PYTHON" -c 'import mcp, pytest' || {
		echo "no mcp or pytest in $REPO/.venv (run hack/setup)" >&2
		return 1
	}
}

teardown() { common_teardown; }

# pytest_k MODULE EXPRESSION: the tests of MODULE whose names match EXPRESSION.
pytest_k() {
	cd "$REPO/Tests/integration/mcp"
	# The test images (busybox, and busybox with python3) are built once for the file.
	SAFEHOUSE="$RUNTIME" ROOTFS="$ROOTFS" MCP_TEST_IMAGES="$BATS_FILE_TMPDIR/mcp/images" PYTHONDONTWRITEBYTECODE=1 \
		run timeout 110 "$PYTHON" -m pytest -q -p no:cacheprovider "$1" -k "$2"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "mcp: tools listed, python code run and its output read back, commands" {
	pytest_k test_mcp.py "lists_the_tools or runs_python or run_command"
}

@test "mcp: write_file, read_file, list_files (text and base64)" {
	pytest_k test_mcp.py "write_read_list"
}

@test "mcp: denials are tool errors with the one-line reason (profile, image, path outside, language, arguments)" {
	pytest_k test_mcp.py "denials"
}

@test "mcp: create_sandbox and kill_sandbox; nothing left when the client goes away, on SIGTERM, or after SIGKILL at the next start" {
	pytest_k test_mcp.py "create_and_kill or nothing_is_left or sigterm or killed_server"
}

@test "mcp: bad flags fail with one line and leave nothing" {
	pytest_k test_mcp.py "bad_flags"
}

@test "mcp: streamable HTTP at /mcp on safehouse serve (code, files, sessions apart, token, flags)" {
	pytest_k test_mcp_http.py "http or token or mcp_rootfs"
}
