#!/usr/bin/env bats
# hack/bench, the benchmark harness, end to end at smoke size (--smoke: a handful of
# samples, about 40 s): it must produce a well-formed report (Markdown tables whose
# rows match their headers, every section, the machine and the versions), the PNG
# charts and summary.json, and leave nothing behind. Nothing here asserts on speed.

bats_require_minimum_version 1.5.0

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

setup_file() {
	export BENCH_OUT="$BATS_FILE_TMPDIR/results"
	# One smoke run for the file; the tests below read what it produced.
	"$REPO/hack/bench" --smoke --max-seconds 3 --out "$BENCH_OUT" >"$BATS_FILE_TMPDIR/bench.log" 2>&1 ||
		echo "$?" >"$BATS_FILE_TMPDIR/bench.failed"
}

@test "hack/bench --smoke runs every benchmark to the end" {
	if [ -f "$BATS_FILE_TMPDIR/bench.failed" ]; then
		tail -30 "$BATS_FILE_TMPDIR/bench.log" >&2
		false
	fi
	for f in report.md summary.json raw/machine.tsv raw/params.tsv; do
		[ -s "$BENCH_OUT/$f" ] || { echo "missing $f" >&2; false; }
	done
}

@test "the report has the headline, every section, the machine and the tool versions" {
	r="$BENCH_OUT/report.md"
	grep -q '^> \*\*SMOKE RUN\*\*' "$r"
	grep -q '^## Headline: safehouse against its peers' "$r"
	grep -q '^| benchmark | safehouse | peer | peer.s figure | ratio | target | met |' "$r"
	for s in '`run` of `true`' 'create + start + delete throughput' '`agent run -- true`' 'idle density' 'egress proxy' 'sandbox service (`safehouse serve`)' 'Tools'; do
		grep -qF "## $s" "$r" || { echo "no section: $s" >&2; false; }
	done
	grep -qE '^Machine: .+ cores, .+ GiB, kernel .+, Debian ' "$r"
	for t in safehouse runc crun runsc swift; do
		grep -qE "^\| $t \| .+ \|$" "$r" || { echo "no version row: $t" >&2; false; }
	done
	# Every runtime has a row in the run table: its figures or "n/a (why)".
	for n in safehouse safehouse-gvisor runc crun runsc; do
		grep -qE "^\| $n \| ([0-9]+|n/a \(.+\)) \|" "$r" || { echo "no run row: $n" >&2; false; }
	done
}

@test "every Markdown table in the report is well formed" {
	python3 - "$BENCH_OUT/report.md" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
tables, cur = [], []
for line in lines + [""]:
    if line.startswith("|"):
        cur.append(line)
    elif cur:
        tables.append(cur)
        cur = []
assert len(tables) >= 6, f"only {len(tables)} tables"
for t in tables:
    cells = lambda row: len(row.strip().strip("|").split("|"))
    assert len(t) >= 3, f"table without rows: {t[0]}"
    assert re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", t[1]), f"bad rule under {t[0]}"
    assert t[0] not in t[1:] and not any(re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", r) for r in t[2:]), f"header twice: {t[0]}"
    for row in t:
        assert row.endswith("|"), f"unterminated row: {row}"
        assert cells(row) == cells(t[0]), f"{cells(row)} cells, header has {cells(t[0])}: {row}"
print(f"{len(tables)} tables")
PY
}

@test "the charts are PNG images, each embedded in the report" {
	for c in run throughput agent density egress; do
		python3 - "$BENCH_OUT/$c.png" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
assert data[12:16] == b"IHDR"
w, h = struct.unpack(">II", data[16:24])
assert 300 <= w <= 4000 and 200 <= h <= 4000, (w, h)
assert data[-8:-4] == b"IEND", "truncated"
PY
		grep -qF "]($c.png)" "$BENCH_OUT/report.md"
	done
}

@test "summary.json holds every benchmark's figures" {
	python3 - "$BENCH_OUT/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for k in ["machine", "params", "run", "throughput", "agent", "density", "egress", "serve", "charts"]:
    assert k in s, k
for n in ["safehouse", "runc", "crun", "harness"]:
    assert s["run"][n]["p50"] > 0, n
assert s["throughput"]["safehouse"], "no throughput"
assert s["agent"]["agent run (default)"]["p50"] > 0
assert s["density"]["safehouse-agent"]["sandboxes"] > 0
for way in ["safehouse", "transparent", "socks"]:
    assert s["egress"][way]["mb_per_s"] > 0 and s["egress"][way]["ttfb_p50"] > 0, way
# The service against its peers: every latency measured, the memory held and let go,
# both transfers of the whole file.
serve = s["serve"]
for n in ["serve: create + first output", "agent run -- true", "serve: exec true", "safehouse exec true"]:
    assert serve["latency"][n]["p50"] > 0 and serve["latency"][n]["n"] > 0, n
held = [m for m in serve["memory"] if m["when"] == "held"]
assert held and int(held[0]["sandboxes"]) == int(s["params"]["density"]) and int(held[0]["rss_kib"]) > 0, serve["memory"]
for op in ["write", "read"]:
    assert serve["files"][op]["mb_per_s"] > 0 and serve["files"][op]["bytes"] == int(s["params"]["file_size_mib"]) << 20, op
gv = s["run"].get("safehouse-gvisor")
assert gv or "all/safehouse-gvisor" in s["na"], "safehouse-gvisor neither measured nor n/a"
PY
}

@test "hack/bench leaves no container, namespace, mount or process behind" {
	run ip netns list
	[[ "$output" != *shbench-* ]]
	run grep -c safehouse-hackbench /proc/self/mountinfo
	[ "$output" = 0 ]
	run pgrep -f 'safehouse-hackbench\.'
	[ "$status" = 1 ]
	run pgrep -f 'tinyproxy -d -c /tmp/safehouse-hackbench'
	[ "$status" = 1 ]
	run sh -c 'ls /var/log/safehouse 2>/dev/null | grep -c "^shbench"'
	[ "$output" = 0 ]
	# The service hack/bench-serve started (its socket and roots are under the run's folder).
	run pgrep -f 'safehouse-serve serve --socket /tmp/safehouse-hackbench'
	[ "$status" = 1 ]
}

@test "hack/bench-report makes the same report again from raw/" {
	cp -r "$BENCH_OUT" "$BATS_TEST_TMPDIR/again"
	run "$REPO/.venv/bin/python" "$REPO/hack/bench-report" --no-charts "$BATS_TEST_TMPDIR/again"
	[ "$status" = 0 ]
	diff <(grep -v -e '^!\[' -e '^$' "$BENCH_OUT/report.md") <(grep -v -e '^!\[' -e '^$' "$BATS_TEST_TMPDIR/again/report.md")
}

@test "hack/bench-report --readme rewrites only the block between its markers" {
	cp "$REPO/bench/README.md" "$BATS_TEST_TMPDIR/README.md"
	cp -r "$BENCH_OUT" "$BATS_TEST_TMPDIR/again"
	run "$REPO/.venv/bin/python" "$REPO/hack/bench-report" --no-charts --readme "$BATS_TEST_TMPDIR/README.md" "$BATS_TEST_TMPDIR/again"
	[ "$status" = 0 ]
	block="$(sed -n '/^<!-- hack\/bench latest: begin/,/^<!-- hack\/bench latest: end/p' "$BATS_TEST_TMPDIR/README.md")"
	[[ "$block" == *"SMOKE RUN"* ]]
	[[ "$block" == *"| benchmark | safehouse | peer |"* ]]
	# Outside the block nothing changed.
	diff <(sed '/^<!-- hack\/bench latest: begin/,/^<!-- hack\/bench latest: end/d' "$REPO/bench/README.md") \
		<(sed '/^<!-- hack\/bench latest: begin/,/^<!-- hack\/bench latest: end/d' "$BATS_TEST_TMPDIR/README.md")
}

@test "bad flags: one line naming the flag, exit 2" {
	run -2 "$REPO/hack/bench" --runs x
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"--runs"* ]]
	run -2 "$REPO/hack/bench" --no-such-flag
	[[ "$output" == *"--no-such-flag: unknown flag"* ]]
	run -2 "$REPO/hack/bench" nosuchbench
	[[ "$output" == *"nosuchbench: unknown benchmark"* ]]
	run -2 "$REPO/hack/bench" --runtimes runc,nosuch run
	[[ "$output" == *"--runtimes"* ]]
	run -2 "$REPO/hack/bench-run" --bogus
	[[ "$output" == *"--bogus"* ]]
	run -2 "$REPO/hack/bench-agent" --only fast
	[[ "$output" == *"--only"* ]]
	run -2 "$REPO/hack/profile-run" --top 0
	[[ "$output" == *"--top"* ]]
}

@test "hack/startup-order profiles both sides: the runtime's functions and the container init's" {
	out="$BATS_TEST_TMPDIR/order"
	run "$REPO/hack/startup-order" --perf 0 --out "$out"
	[ "$status" -eq 0 ] || { echo "$output" >&2; false; }
	# The runtime's side (create) and the init's own (only the init runs it, up to exec).
	grep -q 'ContainerA0C06createB02id' "$out"
	grep -q 'ContainerInitV5setUp' "$out"
	grep -q 'RootfsSetupV7prepare' "$out"
	# Names only: no callgrind recursion suffixes, no bare addresses.
	! grep -qE "'[0-9]+$|^0x" "$out"
	# Nothing left behind (its folder, containers, mounts, valgrind's gdbserver pipes,
	# which the init could not unlink after its pivot_root).
	! ls -d /tmp/safehouse-order.* 2>/dev/null
	! ls /tmp/vgdb-pipe-*-1-by-* 2>/dev/null
}

@test "hack/ab-run: alternating runs of two binaries, a line each; bad input is one line, exit 2" {
	run "$REPO/hack/ab-run" --runs 2 --warmup 0 "$RUNTIME" "$RUNTIME"
	[ "$status" -eq 0 ] || { echo "$output" >&2; false; }
	[ "$(grep -cE "^$RUNTIME +p50 [0-9.]+  p25 [0-9.]+  p75 [0-9.]+  mean [0-9.]+$" <<<"$output")" -eq 2 ]
	! ls -d /tmp/safehouse-ab.* 2>/dev/null
	run -2 "$REPO/hack/ab-run" --bogus "$RUNTIME" "$RUNTIME"
	[[ "$output" == *"--bogus: unknown flag"* ]]
	run -2 "$REPO/hack/ab-run" "$RUNTIME"
	[[ "$output" == *"needs two binaries"* ]]
	# A binary that fails stops the run with its message.
	run -1 "$REPO/hack/ab-run" --runs 1 --warmup 0 "$RUNTIME" /bin/false
	[[ "$output" == *"/bin/false failed"* ]]
}
