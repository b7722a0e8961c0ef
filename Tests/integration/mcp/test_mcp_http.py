"""MCP over streamable HTTP at /mcp on `safehouse serve --mcp-rootfs`, driven by the
`mcp` package's streamable HTTP client: on TCP (loopback) with the service's token."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Iterator, List

import anyio
import httpx
import httpx2
import pytest
from conftest import SAFEHOUSE, Setup, is_error, structured, text
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

TOKEN = "mcp-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    def __init__(self, setup: Setup, *extra: str) -> None:
        self.setup = setup
        self.port = free_port()
        token_file = setup.tmp / "token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o600)
        self.args = [SAFEHOUSE, "serve", "--listen", f"127.0.0.1:{self.port}", "--token-file", str(token_file),
                     "--root", setup.root, "--state-dir", setup.state_dir, "--images", str(setup.images), *extra]
        self.log = setup.tmp / "serve.log"
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"safehouse serve exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/v1/health", headers=self.auth).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("safehouse serve did not answer within 20s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {TOKEN}"}

    def sandboxes(self) -> List[dict]:
        return httpx.get(f"{self.url}/v1/sandboxes", headers=self.auth).json()["sandboxes"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def service(setup: Setup) -> Iterator[Service]:
    svc = Service(setup, "--mcp-rootfs", setup.python, "--mcp-policy", "default", "--mcp-policy", "offline-strict")
    try:
        yield svc
    finally:
        # What a test left (it should leave nothing) is deleted through the API, then checked by `setup`.
        left = [s["id"] for s in svc.sandboxes()] if svc.proc.poll() is None else []
        for sid in left:
            httpx.delete(f"{svc.url}/v1/sandboxes/{sid}", headers=svc.auth)
        svc.stop()
        assert left == [], f"sandboxes left by the MCP sessions: {left}"


@asynccontextmanager
async def client(svc: Service):
    http = httpx2.AsyncClient(headers=svc.auth, timeout=60)
    async with http:
        async with streamable_http_client(f"{svc.url}/mcp", http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                yield session


def test_mcp_over_http_runs_code_and_files_and_ends_with_the_session(service: Service) -> None:
    async def body() -> None:
        async with client(service) as s:
            assert sorted(t.name for t in (await s.list_tools()).tools) == sorted(
                ["run_code", "run_command", "read_file", "write_file", "list_files", "create_sandbox", "kill_sandbox"])
            r = await s.call_tool("run_code", {"language": "python", "code": "print(6 * 7)"})
            assert not is_error(r) and text(r) == "42\n"
            sid = structured(r)["sandbox_id"]
            await s.call_tool("write_file", {"path": "/work/a.txt", "content": "over http\n"})
            r = await s.call_tool("read_file", {"path": "/work/a.txt"})
            assert text(r) == "over http\n"
            r = await s.call_tool("create_sandbox", {"profile": "web"})
            assert is_error(r) and text(r) == 'profile: "web" is not one the operator allowed (default, offline-strict)'
            # The session's sandbox is one of the service's, marked with its MCP session.
            listed = {x["id"]: x for x in service.sandboxes()}
            assert "mcp-session" in listed[sid]["metadata"]
            # A second session sees none of the first one's sandboxes.
            async with client(service) as other:
                r = await other.call_tool("read_file", {"path": "/work/a.txt", "sandbox_id": sid})
                assert is_error(r) and text(r) == f'sandbox_id: no sandbox "{sid}" in this session (create_sandbox makes one)'
        # The client ended its sessions (DELETE): their sandboxes went with them.
        assert service.sandboxes() == []

    anyio.run(body)


def test_mcp_needs_the_token(service: Service) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    r = httpx.post(f"{service.url}/mcp", json=hello, headers={"Accept": "application/json, text/event-stream"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    r = httpx.post(f"{service.url}/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                   headers={**service.auth, "Accept": "application/json, text/event-stream"})
    assert r.status_code == 400, "no session: initialize first"
    r = httpx.post(f"{service.url}/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                   headers={**service.auth, "Accept": "application/json, text/event-stream", "Mcp-Session-Id": "nope"})
    assert r.status_code == 404


def test_no_mcp_without_mcp_rootfs_and_bad_mcp_flags(setup: Setup) -> None:
    svc = Service(setup)
    try:
        r = httpx.post(f"{svc.url}/mcp", json={}, headers=svc.auth)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    finally:
        svc.stop()
    base = [SAFEHOUSE, "serve", "--socket", str(setup.tmp / "s.sock"), "--root", setup.root, "--state-dir", setup.state_dir]
    for extra, line in [
        (["--mcp-policy", "default"], "safehouse: serve: --mcp-rootfs: missing (the image of the sandboxes /mcp makes)"),
        (["--mcp-rootfs", "/no/such/image"], "safehouse: serve: --mcp-rootfs: /no/such/image does not exist"),
        (["--mcp-rootfs", setup.python, "--mcp-timeout", "0"],
         'safehouse: serve: --mcp-timeout: "0" is not a whole number of seconds from 1 to 86400'),
        (["--images", str(setup.tmp), "--mcp-rootfs", setup.python],
         f"safehouse: serve: --mcp-rootfs: {setup.python} is not under {os.path.realpath(setup.tmp)} (--images)"),
    ]:
        out = subprocess.run(base + extra, capture_output=True, text=True, timeout=30)
        assert out.returncode == 1 and out.stderr.splitlines() == [line], out
    out = subprocess.run(base + ["--mcp-rootfs", setup.python, "--mcp-policy", "no-such-profile"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and out.stderr.startswith("safehouse: serve: --mcp-policy: ") and "no-such-profile" in out.stderr, out
    assert not Path(setup.tmp / "s.sock").exists()
