"""Inline policies: a create's `policy` as a document (the fields of a policy file), laid
over the default profile as `agent run --policy FILE` lays a file; its errors named by
field; the fields that reach the host refused; --no-inline-policy refusing them all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOTFS, Service
from safehouse import Sandbox


def error(r):
    assert r.headers["content-type"] == "application/json"
    return r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]


def cgroup_value(pid: int, controller: str, v1_file: str, v2_file: str) -> str:
    """A limit of process ``pid``'s cgroup (v1: the controller's hierarchy; v2: the unified one)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return Path(f"/sys/fs/cgroup/{controller}{path}/{v1_file}").read_text().strip()
    path = next(l.split(":", 2)[2] for l in Path(f"/proc/{pid}/cgroup").read_text().splitlines() if l.startswith("0::"))
    return Path(f"/sys/fs/cgroup{path}/{v2_file}").read_text().strip()


def test_inline_policy_applies_in_the_sandbox(service):
    policy = {"env": {"INLINE_MARK": "from-the-document"}, "limits": {"pids": 77, "memory": "300Mi"}}
    sbx = Sandbox.create(policy=policy, rootfs=ROOTFS, timeout=120)
    try:
        assert sbx.get_info().policy == "inline"
        r = sbx.commands.run("echo $INLINE_MARK")
        assert (r.exit_code, r.stdout.strip()) == (0, "from-the-document")
        # The limits as the kernel enforces them: the init's cgroups, read from the host.
        state = json.loads(service.runtime("state", sbx.sandbox_id).stdout)
        assert cgroup_value(state["pid"], "pids", "pids.max", "pids.max") == "77"
        assert cgroup_value(state["pid"], "memory", "memory.limit_in_bytes", "memory.max") == str(300 * 1024 * 1024)
        # The fields the document leaves out are the default profile's (1 cpu, no network).
        effective = state["annotations"]["io.safehouse.policy.effective"].split()
        assert {"extends=default", "cpus=1", "network=none", "pids=77", "memory=300Mi"} <= set(effective), effective
    finally:
        sbx.kill()


@pytest.mark.parametrize("policy, field", [
    ({"limits": {"memory": "lots"}}, "policy.limits.memory"),
    ({"limits": {"pids": -3}}, "policy.limits.pids"),
    ({"limits": {"memroy": "1Gi"}}, "policy.limits"),
    ({"filesystem": {"input": "/"}}, "policy.filesystem.input"),
    ({"secrets": [{"name": "T", "file": "/etc/shadow", "hosts": ["x.test"]}]}, "policy.secrets"),
    ({"user": {"userNamespace": False}}, "policy.user"),
    ({"network": {"decider": "exec:/bin/true"}}, "policy.network.decider"),
    ({"audit": "/etc/passwd"}, "policy.audit"),
    ({"backend": "gvisor"}, "policy.backend"),
    ({"extends": "no-such-policy"}, "policy"),
    ([1, 2], "policy"),
])
def test_bad_inline_policy_is_a_400_naming_the_field(service, policy, field):
    with service.client() as c:
        before = c.get("/v1/sandboxes").json()["sandboxes"]
        status, code, message = error(c.post("/v1/sandboxes", json={"rootfs": ROOTFS, "policy": policy}))
        assert (status, code) == (400, "invalid_argument"), message
        assert message.startswith(field + ":") or message.startswith(field + "."), message
        assert "\n" not in message and service.state_dir not in message
        assert c.get("/v1/sandboxes").json()["sandboxes"] == before


def test_a_secret_value_is_never_echoed(service):
    with service.client() as c:
        status, _, message = error(c.post("/v1/sandboxes", json={
            "rootfs": ROOTFS, "policy": {"env": {"TOKEN": "hunter2-secret"}, "limits": {"cpus": "hunter3-secret"}}}))
        assert status == 400 and message.startswith("policy.limits.cpus:"), message
        assert "hunter" not in message


def test_no_inline_policy_flag_refuses_with_403(private_tmp):
    svc = Service(private_tmp, extra=["--no-inline-policy"]).start()
    try:
        with svc.client() as c:
            status, code, message = error(c.post("/v1/sandboxes", json={"rootfs": ROOTFS, "policy": {"limits": {"pids": 50}}}))
            assert (status, code) == (403, "forbidden")
            assert "--no-inline-policy" in message and message.startswith("policy:")
            assert c.get("/v1/sandboxes").json()["sandboxes"] == []
            # Named policies still work.
            r = c.post("/v1/sandboxes", json={"rootfs": ROOTFS, "policy": "default", "timeout": 60})
            assert r.status_code in (200, 201), r.text
            c.delete(f"/v1/sandboxes/{r.json()['id']}")
    finally:
        assert svc.cleanup() == []
