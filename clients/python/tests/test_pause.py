"""Pause and resume: frozen processes, a clear 409 for commands, the deadline while paused."""

from __future__ import annotations

import time

import pytest

from conftest import ROOTFS
from safehouse import ConflictError, NotFoundError, Sandbox


def test_pause_freezes_and_resume_thaws(sandbox):
    sandbox.files.make_dir("/scratch/while-paused")
    sandbox.commands.run("(while :; do date +%s%N >> /tmp/ticks; sleep 0.1; done) >/dev/null 2>&1 &")
    time.sleep(0.5)
    sandbox.pause()
    assert sandbox.get_info().state == "paused"
    assert [s.state for s in Sandbox.list() if s.sandbox_id == sandbox.sandbox_id] == ["paused"]
    # Frozen: the ticker writes nothing while paused (the file is read from the host side).
    before = sandbox.files.read("/tmp/ticks")
    time.sleep(0.6)
    assert sandbox.files.read("/tmp/ticks") == before
    with pytest.raises(ConflictError) as e:
        sandbox.commands.run("echo no")
    assert e.value.status == 409 and "paused" in e.value.message
    with pytest.raises(ConflictError):
        sandbox.pause()
    # Files are reached without the frozen processes; removing a tree runs rm inside: 409.
    sandbox.files.write("/scratch/while-paused/f.txt", "written")
    assert sandbox.files.read("/scratch/while-paused/f.txt") == "written"
    assert sandbox.files.make_dir("/scratch/made-paused") is True
    with pytest.raises(ConflictError):
        sandbox.files.remove("/scratch/while-paused")
    sandbox.resume()
    sandbox.files.remove("/scratch/while-paused")
    assert sandbox.get_info().state == "running"
    time.sleep(0.5)
    assert len(sandbox.files.read("/tmp/ticks")) > len(before)
    assert sandbox.commands.run("echo yes").stdout == "yes\n"
    with pytest.raises(ConflictError) as e:
        sandbox.resume()
    assert "not paused" in e.value.message


def test_http_shapes_and_errors(service, sandbox):
    sid = sandbox.sandbox_id
    with service.client() as c:
        r = c.post(f"/v1/sandboxes/{sid}/pause")
        assert r.status_code == 200 and r.json()["state"] == "paused" and "pausedAt" in r.json()
        r = c.post(f"/v1/sandboxes/{sid}/commands", json={"cmd": "true"})
        assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict")
        # A malformed command is still a 400 naming its field, paused or not.
        r = c.post(f"/v1/sandboxes/{sid}/commands", json={"cmd": 5})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("cmd: ")
        r = c.post(f"/v1/sandboxes/{sid}/resume", json={"timeout": "later"})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("timeout: ")
        r = c.post(f"/v1/sandboxes/{sid}/resume", json={"timeout": 90})
        assert r.status_code == 200 and r.json()["state"] == "running" and "pausedAt" not in r.json()
        for verb in ("pause", "resume"):
            r = c.post(f"/v1/sandboxes/sbx-none/{verb}")
            assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
            assert c.get(f"/v1/sandboxes/{sid}/{verb}").status_code == 405
        r = c.post(f"/v1/sandboxes/{sid}/pause?now=1")
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("now: ")


def test_deadline_runs_while_paused(service):
    # Pausing is no way past the timeout: the reaper deletes a paused sandbox at its deadline.
    sbx = Sandbox.create(rootfs=ROOTFS, timeout=3)
    sid = sbx.sandbox_id
    sbx.pause()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sid in service.containers():
        time.sleep(0.25)
    assert sid not in service.containers()
    with pytest.raises(NotFoundError):
        sbx.get_info()
    sbx.close()


def test_resume_timeout_and_set_timeout_while_paused(sandbox):
    sandbox.pause()
    sandbox.set_timeout(5)
    first = sandbox.get_info().end_at
    sandbox.resume(timeout=600)
    assert sandbox.get_info().end_at > first
    assert sandbox.commands.run("echo back").stdout == "back\n"


def test_paused_sandbox_survives_a_restart_paused(service):
    sbx = Sandbox.create(rootfs=ROOTFS, timeout=120)
    try:
        sbx.pause()
        service.stop()
        service.start()
        again = Sandbox.connect(sbx.sandbox_id)
        assert again.get_info().state == "paused"
        with pytest.raises(ConflictError):
            again.commands.run("true")
        again.resume()
        assert again.commands.run("echo thawed").stdout == "thawed\n"
        again.close()
    finally:
        sbx.kill()
        sbx.close()
