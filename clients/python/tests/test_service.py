"""The service itself: TCP only with a token (401 without), a restart finds its
sandboxes, `agent stop-all` stops them, SIGTERM removes the socket."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
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


def test_sigkill_of_the_service_leaves_nothing_orphaned(private_tmp):
    """SIGKILL (no chance to clean up) at the worst moments: with a sandbox running, one
    whose deadline passes while the service is down, a command streaming, and a record
    whose container was never made (killed between writing the record and `run`). The
    restarted service adopts the live sandbox, removes the others, and kills the
    command nobody can read any more."""
    svc = Service(private_tmp).start()
    try:
        kept = Sandbox.create(rootfs=ROOTFS, timeout=120, url=svc.url)
        expiring = Sandbox.create(rootfs=ROOTFS, timeout=2, url=svc.url)
        stream = httpx.Client(transport=httpx.HTTPTransport(uds=svc.socket), base_url="http://safehouse", timeout=30)
        with stream.stream("POST", f"/v1/sandboxes/{kept.sandbox_id}/commands",
                           json={"cmd": "echo started; sleep 300", "timeout": 600},
                           headers={"Accept": "text/event-stream"}) as r:
            for line in r.iter_lines():
                if "started" in line:
                    break
            half_made = Path(svc.state_dir) / "sbx-00000000deadbeef"
            half_made.mkdir()
            (half_made / "sandbox.json").write_text(json.dumps({
                "id": half_made.name, "policy": "default", "rootfs": ROOTFS, "env": {}, "metadata": {},
                "createdAt": "2026-01-01T00:00:00Z", "expiresAt": "2099-01-01T00:00:00Z", "pid": 0}))
            svc.proc.send_signal(signal.SIGKILL)
            svc.proc.wait()
        stream.close()
        # The sandboxes outlive the service: they are the runtime's, not its children.
        assert {kept.sandbox_id, expiring.sandbox_id} <= set(svc.containers())
        time.sleep(2.5)
        svc.start()
        assert [s.sandbox_id for s in Sandbox.list(url=svc.url)] == [kept.sandbox_id]
        assert set(svc.containers()) == {kept.sandbox_id}
        assert not half_made.exists() and not (Path(svc.state_dir) / expiring.sandbox_id).exists()
        # The dead service's command is gone with its process group; the pid file too.
        assert kept.commands.run("ps -o args | grep '^sleep 300' || true").stdout == ""
        assert list((Path(svc.state_dir) / kept.sandbox_id).glob("exec-*.pid")) == []
        assert kept.commands.run("echo adopted").stdout == "adopted\n"
        assert kept.kill()
        kept.close()
        expiring.close()
    finally:
        assert svc.cleanup() == []


def test_descriptors_do_not_grow_with_use(private_tmp):
    svc = Service(private_tmp).start()
    try:
        def cycle():
            with Sandbox.create(rootfs=ROOTFS, timeout=60, url=svc.url) as sbx:
                sbx.commands.run("echo x", stdin="y")
                sbx.commands.run(["true"])
                sbx.files.write("/scratch/f", "z")
                sbx.files.read("/scratch/f")
                sbx.get_info()
        def count() -> int:
            return len(os.listdir(f"/proc/{svc.proc.pid}/fd"))

        def settled(at_most: int) -> int:
            # The service closes a finished client connection on its own event loop, a moment
            # after the client has its answer: one socket may still be open when we look. A
            # leak never settles; a closing connection does, within a few seconds.
            deadline = time.monotonic() + 5
            while (now := count()) > at_most and time.monotonic() < deadline:
                time.sleep(0.05)
            return now

        cycle()
        fds = count()
        for _ in range(20):  # the baseline is the fewest seen over a second
            time.sleep(0.05)
            fds = min(fds, count())
        for _ in range(4):
            cycle()
        assert settled(at_most=fds) <= fds
    finally:
        assert svc.cleanup() == []
