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
    ({"rootfs": ROOTFS, "env": None}, "env"),
    ({"rootfs": ROOTFS, "timeout": None}, "timeout"),
    ({"rootfs": ROOTFS, "policy": None}, "policy"),
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
    ({"cmd": "true", "env": None}, "env"),
    ({"cmd": "true", "cwd": None}, "cwd"),
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
        r = c.request("PATCH", "/v1/sandboxes")
        assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")
        assert r.headers["allow"] == "GET, POST"
        assert c.request("TRACE", "/v1/sandboxes/sbx-nope/files").headers["allow"] == "GET, PUT, DELETE"
        status, _, message = error(c.get("/v1/sandboxes?owner=me"))
        assert status == 400 and message.startswith("owner: ")


def test_unknown_query_parameters_name_themselves(service, sandbox):
    base = f"/v1/sandboxes/{sandbox.sandbox_id}"
    with service.client() as c:
        for method, url in [("GET", base + "/files?path=/etc/hostname&mode=x"), ("PUT", base + "/files?pth=/scratch/f"),
                            ("GET", base + "/files/list?path=/&all=1"), ("GET", base + "?verbose=1"),
                            ("GET", "/v1/health?x=1")]:
            status, code, message = error(c.request(method, url, content=b"x" if method == "PUT" else None))
            assert (status, code) == (400, "invalid_argument"), (method, url, message)
            assert message.split(":")[0] in ("mode", "pth", "all", "verbose", "x"), message
        # Nothing was written under the misspelt name's path, nor anywhere else.
        assert "f" not in [e["name"] for e in c.get(base + "/files/list?path=/scratch").json()["entries"]]


def test_upload_with_expect_100_continue(service, sandbox, private_tmp):
    # curl asks "Expect: 100-continue" for uploads over 1 MiB and waits a second for
    # the answer before it sends the body; the service answers at once.
    import subprocess
    import time

    data = private_tmp / "two-mib"
    data.write_bytes(b"z" * (2 << 20))
    url = f"http://safehouse/v1/sandboxes/{sandbox.sandbox_id}/files?path=/scratch/two-mib"
    started = time.monotonic()
    out = subprocess.run(["curl", "-sS", "-f", "--unix-socket", service.socket, "-T", str(data), "-o", "/dev/null",
                          "-w", "%{http_code}", "--expect100-timeout", "5", url], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "200", out.stderr
    assert time.monotonic() - started < 4, "the upload waited for its 100 Continue"
    assert sandbox.files.read("/scratch/two-mib", format="bytes") == b"z" * (2 << 20)
