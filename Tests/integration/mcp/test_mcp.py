"""The MCP server's tools through the `mcp` package's client over stdio: list, code,
commands, files, sandboxes, denials, and what is left when the client goes away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from contextlib import asynccontextmanager
from typing import Any, Dict, List

import anyio
import pytest
from conftest import SAFEHOUSE, Setup, is_error, structured, text
from mcp import ClientSession
from mcp.client.stdio import stdio_client

TOOLS = ["run_code", "run_command", "read_file", "write_file", "list_files", "create_sandbox", "kill_sandbox"]


@asynccontextmanager
async def client(setup: Setup, *extra: str, rootfs: str | None = None):
    with open(setup.tmp / "server.log", "a") as errlog:
        async with stdio_client(setup.params(*extra, rootfs=rootfs), errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def run(body) -> None:
    anyio.run(body)


def test_lists_the_tools_with_their_schemas(setup: Setup) -> None:
    async def body() -> None:
        async with client(setup) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert sorted(tools) == sorted(TOOLS)
            assert tools["run_code"].input_schema["required"] == ["language", "code"]
            assert "python" in tools["run_code"].input_schema["properties"]["language"]["enum"]
            assert tools["create_sandbox"].input_schema["properties"]["profile"]["enum"] == ["default", "offline-strict"]
            # Listing makes no sandbox: the default one comes with the first call that needs it.
            assert setup.containers() == []

    run(body)


def test_runs_python_and_reads_the_output(setup: Setup) -> None:
    async def body() -> None:
        async with client(setup) as s:
            r = await s.call_tool("run_code", {"language": "python", "code": "import sys\nprint(sum(range(10)), sys.version_info[0])\n"})
            assert not is_error(r), text(r)
            assert text(r) == "45 3\n"
            out = structured(r)
            assert (out["stdout"], out["stderr"], out["exit_code"], out["timed_out"]) == ("45 3\n", "", 0, False)
            # The code ran in the sandbox: its own root, not the host's.
            r = await s.call_tool("run_code", {"language": "python", "code": "import os\nprint(os.path.exists('/work'), os.getuid())"})
            assert text(r) == "False 0\n"
            r = await s.call_tool("run_code", {"language": "python", "code": "raise SystemExit('bad input')"})
            assert not is_error(r), "a program's failure is its answer, not a tool error"
            assert structured(r)["exit_code"] == 1 and structured(r)["stderr"] == "bad input\n"
            r = await s.call_tool("run_code", {"language": "shell", "code": "echo $((6 * 7)); echo oops >&2; exit 3"})
            assert text(r) == "42\n[stderr]\noops\n[exit code 3]\n"
            assert len(setup.containers()) == 1, "every call used the one default sandbox"

    run(body)


def test_run_command_argv_cwd_env_stdin_timeout(setup: Setup) -> None:
    async def body() -> None:
        async with client(setup) as s:
            r = await s.call_tool("run_command", {"argv": ["sh", "-c", 'echo "$PWD $GREETING"; cat'], "cwd": "/tmp",
                                                  "env": {"GREETING": "hi"}, "stdin": "from stdin\n"})
            assert text(r) == "/tmp hi\nfrom stdin\n", text(r)
            start = time.monotonic()
            r = await s.call_tool("run_command", {"command": "sleep 30", "timeout": 1})
            assert time.monotonic() - start < 10
            assert structured(r)["timed_out"] is True and "[killed: the command ran past its timeout]" in text(r)

    run(body)


def test_write_read_list_files(setup: Setup) -> None:
    async def body() -> None:
        async with client(setup) as s:
            program = "print(open('/work/data.txt').read().upper(), end='')\n"
            r = await s.call_tool("write_file", {"path": "/work/hello.py", "content": program})
            assert not is_error(r), text(r)
            await s.call_tool("write_file", {"path": "/work/data.txt", "content": "héllo\n"})
            r = await s.call_tool("read_file", {"path": "/work/hello.py"})
            assert not is_error(r) and text(r) == program
            r = await s.call_tool("list_files", {"path": "/work"})
            entries = {e["name"]: e for e in structured(r)["entries"]}
            assert entries["hello.py"] == {"name": "hello.py", "type": "file", "size": len(program)}
            assert entries["data.txt"]["size"] == len("héllo\n".encode())
            assert text(r) == f"data.txt\t7\nhello.py\t{len(program)}"
            r = await s.call_tool("run_command", {"command": "python3 /work/hello.py"})
            assert text(r) == "HÉLLO\n"
            # Binary content, base64 both ways; the file the sandbox wrote is read back.
            await s.call_tool("run_command", {"command": "printf '\\000\\377' > /tmp/bin"})
            r = await s.call_tool("read_file", {"path": "/tmp/bin"})
            assert is_error(r) and text(r).startswith("path: /tmp/bin is not UTF-8 text (2 bytes)")
            r = await s.call_tool("read_file", {"path": "/tmp/bin", "encoding": "base64"})
            assert text(r) == "AP8="
            await s.call_tool("write_file", {"path": "/tmp/bin2", "content": "AP8=", "encoding": "base64"})
            r = await s.call_tool("run_command", {"command": "od -An -tx1 /tmp/bin2"})
            assert text(r).split() == ["00", "ff"]

    run(body)


def test_denials_are_tool_errors_with_the_reason(setup: Setup, tmp_path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("host only\n")

    async def body() -> None:
        async with client(setup) as s:
            async def error(tool: str, args: Dict[str, Any]) -> str:
                r = await s.call_tool(tool, args)
                assert is_error(r), f"{tool} {args}: {text(r)}"
                assert "\n" not in text(r).strip(), "one line"
                return text(r)

            assert await error("create_sandbox", {"profile": "web"}) == \
                'profile: "web" is not one the operator allowed (default, offline-strict)'
            assert await error("create_sandbox", {"profile": "/etc/policy.yaml"}) == \
                'profile: "/etc/policy.yaml" is not one the operator allowed (default, offline-strict)'
            assert (await error("create_sandbox", {"image": "/"})).startswith("image: / is not under ")
            assert await error("read_file", {"path": "relative"}) == 'path: "relative" is not absolute'
            # A path that climbs out of the sandbox resolves inside it: the host's file is not there.
            escape = "/../../../.." + str(secret)
            assert await error("read_file", {"path": escape}) == f"path: {escape}: no such file or directory"
            assert await error("list_files", {"path": "/no/such/dir"}) == "path: /no/such/dir: no such file or directory"
            assert await error("run_code", {"language": "cobol", "code": "x"}) == \
                'language: "cobol" is not one of python, shell, bash, javascript'
            assert await error("run_command", {}) == "command: missing (a shell command line, or argv)"
            assert (await error("run_command", {"command": "true", "user": "root"})).startswith("user: not an argument of this tool")
            assert await error("kill_sandbox", {"sandbox_id": "sbx-0000000000000000"}) == \
                'sandbox_id: no sandbox "sbx-0000000000000000" in this session'
            assert (await error("no_such_tool", {})).startswith('no tool "no_such_tool"')
            # The default sandbox's image has Python; the busybox image has none.
            r = await s.call_tool("create_sandbox", {"image": setup.busybox})
            bare = structured(r)["sandbox_id"]
            assert await error("run_code", {"language": "python", "code": "print(1)", "sandbox_id": bare}) == \
                f"language: the image of sandbox {bare} has no python3 or python on its PATH, so it cannot run python"
            assert secret.read_text() == "host only\n"

    run(body)


def test_create_and_kill_sandboxes(setup: Setup) -> None:
    async def body() -> None:
        async with client(setup) as s:
            r = await s.call_tool("create_sandbox", {"profile": "offline-strict"})
            assert not is_error(r), text(r)
            made = structured(r)
            sid = made["sandbox_id"]
            assert made["profile"] == "offline-strict" and made["image"] == setup.python
            assert f"created sandbox {sid}" in text(r)
            await s.call_tool("write_file", {"path": "/tmp/mine", "content": "x", "sandbox_id": sid})
            # The default sandbox is another one: the file is not there.
            r = await s.call_tool("run_command", {"command": "test -e /tmp/mine; echo $?"})
            assert text(r) == "1\n"
            assert structured(r)["sandbox_id"] != sid
            assert sorted(setup.containers()) == sorted([sid, structured(r)["sandbox_id"]])
            r = await s.call_tool("kill_sandbox", {"sandbox_id": sid})
            assert not is_error(r) and text(r) == f"killed sandbox {sid}"
            assert sid not in setup.containers()
            r = await s.call_tool("read_file", {"path": "/tmp/mine", "sandbox_id": sid})
            assert is_error(r) and text(r) == f'sandbox_id: no sandbox "{sid}" in this session (create_sandbox makes one)'

    run(body)


def test_nothing_is_left_when_the_client_goes_away(setup: Setup) -> None:
    seen: List[str] = []

    async def body() -> None:
        async with client(setup) as s:
            r = await s.call_tool("create_sandbox", {})
            seen.append(structured(r)["sandbox_id"])
            r = await s.call_tool("run_command", {"command": "echo up"})
            seen.append(structured(r)["sandbox_id"])
            assert sorted(setup.containers()) == sorted(seen)
            assert len(setup.records()) == 1, "one directory of the server's own"

    run(body)
    # The client closed the server's stdin and waited for it: its sandboxes went with it.
    assert setup.containers() == []
    assert setup.records() == []


def raw_server(setup: Setup) -> subprocess.Popen:
    """The server driven by hand (JSON-RPC lines), to end it by signal mid-session."""
    return subprocess.Popen([SAFEHOUSE, *setup.args()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=open(setup.tmp / "server.log", "ab"), text=True)


def call(p: subprocess.Popen, i: int, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
    p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n")
    p.stdin.flush()
    return json.loads(p.stdout.readline())


def test_sigterm_mid_command_leaves_nothing(setup: Setup) -> None:
    p = raw_server(setup)
    try:
        call(p, 1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
        r = call(p, 2, "tools/call", {"name": "run_command", "arguments": {"command": "echo ok"}})
        assert r["result"]["content"][0]["text"] == "ok\n"
        # A command still running when the server is told to stop.
        p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                                  "params": {"name": "run_command", "arguments": {"command": "sleep 60"}}}) + "\n")
        p.stdin.flush()
        time.sleep(1)
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert setup.containers() == []
    assert setup.records() == []


def test_a_killed_servers_sandboxes_go_at_the_next_start(setup: Setup) -> None:
    p = raw_server(setup)
    try:
        call(p, 1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
        r = call(p, 2, "tools/call", {"name": "run_command", "arguments": {"command": "echo ok"}})
        orphan = r["result"]["structuredContent"]["sandbox_id"]
    finally:
        p.kill()  # SIGKILL: no chance to clean up
        p.wait()
    assert setup.containers() == [orphan]
    assert len(setup.records()) == 1
    # The next server on the same state directory removes what the dead one left.
    q = raw_server(setup)
    try:
        call(q, 1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
        assert setup.containers() == []
        assert len(setup.records()) == 1, "only the new server's own directory"
    finally:
        q.stdin.close()
        assert q.wait(30) == 0
    assert setup.records() == []


def test_bad_flags_fail_with_one_line(setup: Setup) -> None:
    def fails(*args: str) -> str:
        out = subprocess.run([SAFEHOUSE, "mcp", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
        assert out.returncode == 1, out
        assert out.stdout == ""
        lines = out.stderr.splitlines()
        assert len(lines) == 1, out.stderr
        return lines[0]

    base = ["--root", setup.root, "--state-dir", setup.state_dir]
    assert fails(*base) == "safehouse: mcp: --rootfs: missing (the image sandboxes are made from)"
    assert fails("--rootfs", "/no/such/image", *base) == "safehouse: mcp: --rootfs: /no/such/image does not exist"
    assert fails("--rootfs", setup.python, "--policy", "../x.yaml", *base) == \
        'safehouse: mcp: --policy: "../x.yaml" is not a policy name (a profile or a policy in the policy directory; no paths)'
    assert fails("--rootfs", setup.python, "--images", str(setup.tmp), *base) == \
        f"safehouse: mcp: --rootfs: {setup.python} is not under {os.path.realpath(setup.tmp)} (--images)"
    # A name that is no profile and no policy of the policy directory: the loader's own line.
    line = fails("--rootfs", setup.python, "--policy", "no-such-profile", *base)
    assert line.startswith("safehouse: mcp: --policy: ") and "no-such-profile" in line, line
    assert setup.records() == [], "a refused start leaves no directory"
    help_text = subprocess.run([SAFEHOUSE, "mcp", "--help"], capture_output=True, text=True).stdout
    assert "--policy" in help_text and "--rootfs" in help_text
