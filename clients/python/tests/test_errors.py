"""Bad input: 400 naming the field, 404 for unknown ids and routes, 405, nothing half made."""

from __future__ import annotations

import pytest

from conftest import ROOTFS


def error(r):
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return r.status_code, body["error"]["code"], body["error"]["message"]


@pytest.mark.parametrize("body, field", [
    ({}, "rootfs"),
    ({"rootfs": "relative/path"}, "rootfs"),
    ({"rootfs": "/nonexistent-rootfs"}, "rootfs"),
    ({"rootfs": 5}, "rootfs"),
    ({"rootfs": ROOTFS, "timeout": "soon"}, "timeout"),
    ({"rootfs": ROOTFS, "timeout": 0}, "timeout"),
    ({"rootfs": ROOTFS, "timeout": 1.5}, "timeout"),
    ({"rootfs": ROOTFS, "timeout": True}, "timeout"),
    ({"rootfs": ROOTFS, "env": ["A=b"]}, "env"),
    ({"rootfs": ROOTFS, "env": {"A": 1}}, "env.A"),
    ({"rootfs": ROOTFS, "env": {"A=B": "c"}}, "env.A=B"),
    ({"rootfs": ROOTFS, "metadata": {"k": None}}, "metadata.k"),
    ({"rootfs": ROOTFS, "policy": "no-such-policy"}, "policy"),
    ({"rootfs": ROOTFS, "policy": ""}, "policy"),
    ({"rootfs": ROOTFS, "policy": "/etc/shadow"}, "policy"),
    ({"rootfs": ROOTFS, "policy": "../policy"}, "policy"),
    ({"rootfs": ROOTFS, "policy": "mine.yaml"}, "policy"),
])
def test_create_bad_fields(service, body, field):
    with service.client() as c:
        before = c.get("/v1/sandboxes").json()["sandboxes"]
        status, code, message = error(c.post("/v1/sandboxes", json=body))
        assert (status, code) == (400, "invalid_argument")
        assert message.startswith(f"{field}: "), message
        assert "\n" not in message
        assert c.get("/v1/sandboxes").json()["sandboxes"] == before
    assert service.containers() == [s["id"] for s in before]


def test_malformed_json(service):
    with service.client() as c:
        status, code, message = error(c.post("/v1/sandboxes", content=b"{not json", headers={"content-type": "application/json"}))
        assert (status, message.split(":")[0]) == (400, "body")
        status, _, message = error(c.post("/v1/sandboxes", json=[1, 2]))
        assert (status, message.split(":")[0]) == (400, "body")


@pytest.mark.parametrize("body, field", [
    ({}, "cmd"),
    ({"cmd": ""}, "cmd"),
    ({"cmd": []}, "cmd"),
    ({"cmd": ["ls", 3]}, "cmd"),
    ({"cmd": "true", "cwd": "tmp"}, "cwd"),
    ({"cmd": "true", "timeout": -1}, "timeout"),
    ({"cmd": "true", "env": {"": "x"}}, "env."),
    ({"cmd": "true", "stdin": 5}, "stdin"),
])
def test_command_bad_fields(service, sandbox, body, field):
    with service.client() as c:
        status, _, message = error(c.post(f"/v1/sandboxes/{sandbox.sandbox_id}/commands", json=body))
        assert status == 400 and message.startswith(f"{field}: " if not field.endswith(".") else field), message


def test_files_bad_paths(service, sandbox):
    base = f"/v1/sandboxes/{sandbox.sandbox_id}/files"
    with service.client() as c:
        for method, url in [("GET", base), ("GET", base + "?path=relative"), ("GET", base + "/list"),
                            ("PUT", base + "?path=/tmp/.."), ("PUT", base + "?path=/"),
                            ("DELETE", base + "?path=/"), ("POST", base + "/mkdir?path=x")]:
            status, code, message = error(c.request(method, url, content=b"x" if method == "PUT" else None))
            assert (status, code) == (400, "invalid_argument"), (method, url, message)
            assert message.startswith("path: "), message


def test_unknown_ids_and_routes(service):
    with service.client() as c:
        for method, url in [("GET", "/v1/sandboxes/sbx-nope"), ("DELETE", "/v1/sandboxes/sbx-nope"),
                            ("POST", "/v1/sandboxes/sbx-nope/timeout"), ("POST", "/v1/sandboxes/sbx-nope/commands"),
                            ("GET", "/v1/sandboxes/sbx-nope/files?path=/x"), ("PUT", "/v1/sandboxes/sbx-nope/files?path=/x"),
                            ("GET", "/v1/nothing"), ("GET", "/")]:
            status, code, _ = error(c.request(method, url, json={"cmd": "true", "timeout": 5}))
            assert (status, code) == (404, "not_found"), (method, url)
        status, code, _ = error(c.request("PATCH", "/v1/sandboxes"))
        assert (status, code) == (405, "method_not_allowed")
        status, _, message = error(c.get("/v1/sandboxes?owner=me"))
        assert status == 400 and message.startswith("owner: ")
