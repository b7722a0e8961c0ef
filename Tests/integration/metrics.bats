#!/usr/bin/env bats
# The service's /metrics (docs/observe.md): a real `safehouse serve` on its own socket,
# runtime root and state directory, a sandbox made through the API doing some work,
# /metrics scraped over the Unix socket and parsed with prometheus-client's text
# parser (metrics_check.py): the names, types and labels there, the figures plausible;
# the sandbox's series gone once it is deleted. Needs safehouse-serve next to RUNTIME,
# curl, and prometheus-client in the repository's .venv (hack/setup).

load helpers

setup() {
	common_setup
	case "$("$RUNTIME" --version 2>/dev/null)" in
	safehouse*) ;;
	*) skip "safehouse serve needs RUNTIME=safehouse" ;;
	esac
	PYTHON="$REPO/.venv/bin/python"
	"$PYTHON" -c 'import prometheus_client' || {
		echo "no prometheus-client in $REPO/.venv (run hack/setup)" >&2
		return 1
	}
	SOCK="$TEST_TMP/api.sock"
	"$RUNTIME" serve --socket "$SOCK" --root "$ROOT" --state-dir "$TEST_TMP/state" 2>"$TEST_TMP/serve.log" &
	SERVE_PID=$!
	local n=100
	until [ -S "$SOCK" ] || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -S "$SOCK" ]
}

teardown() {
	[ -z "${SERVE_PID:-}" ] || { kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null || true; }
	common_teardown
}

api() { curl -sS --max-time 60 --unix-socket "$SOCK" "$@"; }

@test "metrics: /metrics of a live sandbox parses, names and labels there, figures plausible; gone with the sandbox" {
	local id
	id="$(api -X POST -H 'content-type: application/json' \
		-d "{\"policy\": \"default\", \"rootfs\": \"$ROOTFS\", \"timeout\": 120}" http://localhost/v1/sandboxes | jq -r .id)"
	[[ "$id" == sbx-* ]]
	# Some CPU, some memory, 100 KiB in the root.
	api -X POST -H 'content-type: application/json' \
		-d '{"cmd": "dd if=/dev/zero of=/etc/blob bs=1k count=100 2>/dev/null; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo ok"}' \
		"http://localhost/v1/sandboxes/$id/commands" | jq -e '.exitCode == 0'
	run curl -sS --unix-socket "$SOCK" -o "$TEST_TMP/scrape.txt" -w '%{http_code} %{content_type}' http://localhost/metrics
	[ "$status" -eq 0 ]
	[ "$output" = "200 text/plain; version=0.0.4; charset=utf-8" ]
	run "$PYTHON" "$BATS_TEST_DIRNAME/metrics_check.py" "$TEST_TMP/scrape.txt" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	# The sandbox's own series carry its id, policy and backend.
	grep -q "^safehouse_sandbox_pids{id=\"$id\",policy=\"default\",backend=\"native\"} " "$TEST_TMP/scrape.txt"
	# Not a route for anything but GET.
	[ "$(api -o /dev/null -w '%{http_code}' -X POST http://localhost/metrics)" = 405 ]
	[ "$(api -o /dev/null -w '%{http_code}' -X DELETE "http://localhost/v1/sandboxes/$id")" = 204 ]
	api -o "$TEST_TMP/after.txt" http://localhost/metrics
	run "$PYTHON" "$BATS_TEST_DIRNAME/metrics_check.py" "$TEST_TMP/after.txt" "-$id"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^safehouse_sandbox_create_seconds_count{policy="default"} 1' "$TEST_TMP/after.txt"
}
