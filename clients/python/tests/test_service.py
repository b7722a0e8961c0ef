"""The service itself: TCP only with a token (401 without), a restart finds its
sandboxes, `agent stop-all` stops them, SIGTERM removes the socket."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest

from conftest import ROOTFS, SAFEHOUSE, Service
from safehouse import AuthenticationError, Sandbox, SafehouseError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_needs_a_token(private_tmp):
    out = subprocess.run([SAFEHOUSE, "serve", "--listen", f"127.0.0.1:{free_port()}", "--root", str(private_tmp / "root"),
                          "--state-dir", str(private_tmp / "state")], capture_output=True, text=True, timeout=20)
    assert out.returncode != 0
    assert "--token-file" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_tcp_refuses_requests_without_the_token(private_tmp):
    token = "t0ken-" + os.urandom(12).hex()
    svc = Service(private_tmp, listen=f"127.0.0.1:{free_port()}", token=token).start()
    try:
        with svc.client() as c:
            r = c.get("/v1/health")
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
            assert c.post("/v1/sandboxes", json={"rootfs": ROOTFS}).status_code == 401
        with svc.client("wrong-" + token[6:]) as c:
            assert c.get("/v1/sandboxes").status_code == 401
        with pytest.raises(AuthenticationError):
            Sandbox.list(url=svc.url, token="nope")
        with Sandbox.create(rootfs=ROOTFS, timeout=60, url=svc.url, token=token) as sbx:
            assert sbx.commands.run("echo over tcp").stdout == "over tcp\n"
    finally:
        assert svc.cleanup() == []


def test_restart_finds_the_sandbox(private_tmp):
    svc = Service(private_tmp).start()
    try:
        sbx = Sandbox.create(rootfs=ROOTFS, timeout=120, metadata={"k": "v"}, url=svc.url)
        sbx.files.write("/scratch/kept", "across restarts")
        sid = sbx.sandbox_id
        sbx.close()
        svc.stop()
        assert not os.path.exists(svc.socket)
        assert sid in svc.containers()
        svc.start()
        again = Sandbox.connect(sid, url=svc.url)
        assert again.get_info().metadata == {"k": "v"}
        assert again.files.read("/scratch/kept") == "across restarts"
        assert again.commands.run("echo still here").stdout == "still here\n"
        assert again.kill()
        again.close()
        assert sid not in svc.containers()
    finally:
        assert svc.cleanup() == []


def test_expired_while_the_service_was_down(private_tmp):
    svc = Service(private_tmp).start()
    try:
        sbx = Sandbox.create(rootfs=ROOTFS, timeout=1, url=svc.url)
        sid = sbx.sandbox_id
        sbx.close()
        svc.stop()
        time.sleep(1.5)
        svc.start()
        assert sid not in svc.containers()
        assert Sandbox.list(url=svc.url) == []
    finally:
        assert svc.cleanup() == []


def test_agent_stop_all_stops_service_sandboxes(private_tmp):
    svc = Service(private_tmp).start()
    try:
        sbx = Sandbox.create(rootfs=ROOTFS, timeout=120, url=svc.url)
        out = svc.runtime("agent", "stop-all")
        assert out.returncode == 0, out.stderr
        assert sbx.sandbox_id in out.stdout.split()
        assert svc.runtime("state", sbx.sandbox_id).stdout.count('"stopped"') == 1
        assert sbx.get_info().state == "stopped"
        with pytest.raises(SafehouseError) as e:
            sbx.commands.run("true")
        assert (e.value.status, e.value.code) == (409, "conflict")
        assert sbx.kill()
        sbx.close()
    finally:
        assert svc.cleanup() == []


def test_images_limits_the_root_filesystems(private_tmp):
    images = os.path.dirname(ROOTFS)
    svc = Service(private_tmp, extra=["--images", images]).start()
    try:
        with svc.client() as c:
            r = c.post("/v1/sandboxes", json={"rootfs": "/", "timeout": 30})
            assert r.status_code == 400 and r.json()["error"]["message"].startswith("rootfs: ")
            r = c.post("/v1/sandboxes", json={"rootfs": ROOTFS + "/..", "timeout": 30})
            assert r.status_code == 400
            # A symlink to / elsewhere is refused too.
            link = private_tmp / "outside-link"
            os.symlink("/", link)
            r = c.post("/v1/sandboxes", json={"rootfs": str(link), "timeout": 30})
            assert r.status_code == 400
        with Sandbox.create(rootfs=ROOTFS, timeout=30, url=svc.url) as sbx:
            assert sbx.commands.run("true").exit_code == 0
    finally:
        assert svc.cleanup() == []
