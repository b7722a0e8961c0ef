"""Sandbox lifecycle: create, list, get, connect, timeout, delete, expiry."""

from __future__ import annotations

import time

import pytest

from conftest import ROOTFS
from safehouse import NotFoundError, Sandbox


def test_create_get_list_delete(service):
    sbx = Sandbox.create(rootfs=ROOTFS, timeout=60, metadata={"suite": "lifecycle", "n": "1"})
    try:
        info = sbx.get_info()
        assert info.sandbox_id == sbx.sandbox_id and sbx.sandbox_id.startswith("sbx-")
        assert info.state == "running"
        assert info.policy == "default"
        assert info.rootfs == ROOTFS
        assert info.metadata == {"suite": "lifecycle", "n": "1"}
        assert sbx.sandbox_id in [s.sandbox_id for s in Sandbox.list()]
        assert sbx.sandbox_id in service.containers()
        assert [s.sandbox_id for s in Sandbox.list(metadata={"suite": "lifecycle"})] == [sbx.sandbox_id]
        assert Sandbox.list(metadata={"suite": "other"}) == []
        again = Sandbox.connect(sbx.sandbox_id)
        assert again.commands.run("echo connected").stdout == "connected\n"
        again.close()
    finally:
        assert sbx.kill() is True
        sbx.close()
    assert sbx.sandbox_id not in [s.sandbox_id for s in Sandbox.list()]
    assert sbx.sandbox_id not in service.containers()
    with pytest.raises(NotFoundError):
        Sandbox.connect(sbx.sandbox_id)


def test_http_shapes(service):
    with service.client() as c:
        assert c.get("/v1/health").json() == {"status": "ok"}
        assert c.get("/v1/version").json()["api"] == "v1"
        r = c.post("/v1/sandboxes", json={"rootfs": ROOTFS, "timeout": 60})
        assert r.status_code == 201, r.text
        body = r.json()
        assert set(body) == {"id", "policy", "rootfs", "state", "createdAt", "expiresAt", "metadata"}
        sid = body["id"]
        assert c.get(f"/v1/sandboxes/{sid}").status_code == 200
        r = c.post(f"/v1/sandboxes/{sid}/timeout", json={"timeout": 600})
        assert r.status_code == 200 and r.json()["expiresAt"] > body["expiresAt"]
        assert c.delete(f"/v1/sandboxes/{sid}").status_code == 204
        assert c.delete(f"/v1/sandboxes/{sid}").status_code == 404
        assert c.get(f"/v1/sandboxes/{sid}").json()["error"]["code"] == "not_found"


def test_context_manager_kills(service):
    with Sandbox.create(rootfs=ROOTFS, timeout=60) as sbx:
        sid = sbx.sandbox_id
        assert sbx.is_running()
    assert sid not in [s.sandbox_id for s in Sandbox.list()]
    assert sid not in service.containers()


def test_expired_sandbox_is_removed(service):
    sbx = Sandbox.create(rootfs=ROOTFS, timeout=2)
    sid = sbx.sandbox_id
    sbx.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sid in service.containers():
        time.sleep(0.25)
    assert sid not in service.containers()
    assert sid not in [s.sandbox_id for s in Sandbox.list()]


def test_set_timeout_extends(service):
    with Sandbox.create(rootfs=ROOTFS, timeout=2) as sbx:
        sbx.set_timeout(60)
        time.sleep(3)
        assert sbx.is_running()
        assert sbx.commands.run("true").exit_code == 0
