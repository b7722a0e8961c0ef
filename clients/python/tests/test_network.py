"""A sandbox's network through the API and the SDK: the live allowlist (``sbx.network``:
allow, deny, rules, stats; the next connection takes effect, an open one keeps its
verdict; each change audited with the API client), and a client as the sandbox's
decider (``on_egress_request``: yes, no, no answer by the deadline, a client gone).

The sandboxes reach a small HTTP server of this test on the host's loopback through
their warden: the service runs with SAFEHOUSE_EGRESS_HOSTS mapping a.test ... e.test to
127.0.0.1, and the inline policies allow 127.0.0.1 by its literal (a loopback address
opens only to a rule naming it exactly). Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator, List

import pytest

from conftest import AUDIT_DIR, ROOTFS, Service
from safehouse import AsyncSandbox, ConflictError, InvalidArgumentError, NotFoundError, Sandbox

BODY = b"hello from the host\n"


class World:
    """The HTTP server the sandboxes reach; ``/slow`` sends half its body, then waits
    for ``release`` before the rest."""

    def __init__(self) -> None:
        self.slow_started = threading.Event()
        self.release = threading.Event()
        world = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = BODY * 2 if self.path == "/slow" else BODY
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path == "/slow":
                    self.wfile.write(body[: len(BODY)])
                    self.wfile.flush()
                    world.slow_started.set()
                    world.release.wait(30)
                    self.wfile.write(body[len(BODY):])
                else:
                    self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    w = World()
    try:
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def service(world: World) -> Iterator[Service]:
    """This module's own service: its runtime resolves the test names to loopback."""
    tmp = Path(tempfile.mkdtemp(prefix="safehouse-serve-test."))
    hosts = tmp / "hosts"
    hosts.write_text("127.0.0.1 a.test b.test c.test d.test e.test\n")
    saved = os.environ.get("SAFEHOUSE_EGRESS_HOSTS")
    os.environ["SAFEHOUSE_EGRESS_HOSTS"] = str(hosts)
    try:
        svc = Service(tmp).start()
    finally:
        if saved is None:
            os.environ.pop("SAFEHOUSE_EGRESS_HOSTS", None)
        else:
            os.environ["SAFEHOUSE_EGRESS_HOSTS"] = saved
    os.environ["SAFEHOUSE_URL"] = svc.url
    os.environ.pop("SAFEHOUSE_TOKEN", None)
    try:
        yield svc
    finally:
        left = svc.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        assert left == [], f"sandboxes left after the tests: {left}"


def policy(*allow: str) -> dict:
    return {"network": {"allow": ["127.0.0.1", *allow]}}


def fetch(sbx, world: World, host: str, path: str = "/") -> str:
    """What busybox wget prints for http://HOST:PORT/PATH through the proxy, errors included."""
    return sbx.commands.run(f"wget -q -O- http://{host}:{world.port}{path} 2>&1", timeout=30).stdout


def audit(sandbox_id: str, kind: str, count: int = 1, timeout: float = 10) -> List[dict]:
    """The sandbox's audit records of ``kind`` once there are ``count`` of them."""
    path = AUDIT_DIR / f"{sandbox_id}.audit.jsonl"
    deadline = time.monotonic() + timeout
    records: List[dict] = []
    while True:
        try:
            records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        except OSError:
            records = []
        records = [r for r in records if r.get("kind") == kind]
        if len(records) >= count or time.monotonic() >= deadline:
            return records
        time.sleep(0.1)


def egress_decisions(service: Service, sandbox_id: str, host: str, count: int = 1) -> List[dict]:
    """The warden's decisions about ``host``, from its egress.jsonl (the same records
    as the audit log's ``egress`` ones, in the runtime root, which no other test run
    touches), once there are ``count``."""
    path = Path(service.root) / sandbox_id / "egress.jsonl"
    deadline = time.monotonic() + 10
    while True:
        try:
            found = [d for d in map(json.loads, path.read_text().splitlines()) if d["host"] == host]
        except OSError:
            found = []
        if len(found) >= count or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def test_allow_and_deny_take_effect_for_the_next_connection(service, world):
    with Sandbox.create(policy=policy("a.test"), rootfs=ROOTFS, timeout=120) as sbx:
        assert "b.test matches no rule of network.allow" in fetch(sbx, world, "b.test")

        change = sbx.network.allow(f"b.test:{world.port}")
        assert change.changes == [f"added allow b.test:{world.port}"]
        assert fetch(sbx, world, "b.test") == BODY.decode()

        # A connection made before the deny keeps its verdict; the next one is refused.
        world.slow_started.clear()
        world.release.clear()
        slow = sbx.commands.run(f"wget -q -O- http://b.test:{world.port}/slow 2>&1", background=True, timeout=60)
        assert world.slow_started.wait(20), "the slow request never reached the server"
        change = sbx.network.deny(f"b.test:{world.port}", "a.test")
        assert change.changes == [f"removed allow b.test:{world.port}", "removed allow a.test"]
        assert "b.test matches no rule of network.allow" in fetch(sbx, world, "b.test")
        world.release.set()
        assert slow.wait(timeout=30).stdout == (BODY * 2).decode()

        rules = sbx.network.rules()
        assert [(r.rule, r.effect, r.source) for r in rules] == [("127.0.0.1", "allow", "policy")]
        sbx.network.allow("e.test")
        added = sbx.network.rules()[-1]
        assert added.rule == "e.test" and added.source.endswith(f"for api unix uid {os.getuid()} pid {os.getpid()}"), added

        stats = sbx.network.stats()
        assert stats.allowed >= 2 and stats.denied >= 2 and stats.bytes_down > 0 and stats.connections == 0, stats

        # Every change is an audit record saying who asked: the service, for this client.
        changes = audit(sbx.sandbox_id, "egress-rules", 3)
        assert [c["details"]["op"] for c in changes] == ["allow", "deny", "allow"], changes
        for c in changes:
            by = c["details"]["by"]
            assert by["onBehalfOf"] == f"api unix uid {os.getuid()} pid {os.getpid()}", by
            assert "safehouse-serve" in by["command"] or "serve" in by["command"], by


def test_bad_requests_name_the_field(service, world):
    with Sandbox.create(policy=policy(), rootfs=ROOTFS, timeout=120) as sbx, service.client() as c:
        base = f"/v1/sandboxes/{sbx.sandbox_id}/network"
        for body, field in [({}, "rules"), ({"rules": []}, "rules"), ({"rules": "x.test"}, "rules"),
                            ({"rules": ["ok.test", 3]}, "rules[1]"), ({"rules": ["a b"]}, "rules[0]"),
                            ({"rules": ["x.test:99999"]}, "rules[0]")]:
            r = c.post(base + "/allow", json=body)
            assert r.status_code == 400, (body, r.text)
            assert r.json()["error"]["message"].startswith(field + ": "), (body, r.text)
        # A bad rule among good ones changes nothing.
        assert [x.rule for x in sbx.network.rules()] == ["127.0.0.1"]
        assert c.get(base + "/rules?x=1").status_code == 400
        assert c.post(base + "/rules").status_code == 405
        r = c.post(base + "/decisions/egr-none", json={"allow": True})
        assert r.status_code == 404 and "egr-none" in r.json()["error"]["message"], r.text
        r = c.post(base + "/decisions/egr-none", json={"allow": "yes"})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("allow: "), r.text
        r = c.post(base + "/decisions/egr-none", json={"allow": True, "reason": "two\nlines"})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("reason: "), r.text
        with pytest.raises(ValueError):
            sbx.network.allow()
        # A sandbox stopped under the service (its warden gone with it): 409, not a 500.
        assert service.runtime("kill", sbx.sandbox_id, "KILL").returncode == 0
        deadline = time.monotonic() + 10
        while sbx.get_info().state == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        with pytest.raises(ConflictError) as e:
            sbx.network.rules()
        assert "is not running" in e.value.message, e.value.message
    with pytest.raises(NotFoundError):
        Sandbox.connect("sbx-0000000000000000")
    with service.client() as c:
        r = c.get("/v1/sandboxes/sbx-none/network/rules")
        assert (r.status_code, r.json()["error"]["message"]) == (404, 'no sandbox "sbx-none"')
        # No egress: nothing to change, nothing to decide.
        with Sandbox.create(rootfs=ROOTFS, timeout=60) as plain:
            with pytest.raises(ConflictError) as e:
                plain.network.allow("x.test")
            assert "has no egress" in e.value.message
        for body, field in [({"decider": "client"}, "decider"), ({"decider": "human", "policy": policy()}, "decider"),
                            ({"deciderTimeout": 5, "policy": policy()}, "deciderTimeout"),
                            ({"decider": "client", "deciderTimeout": 301, "policy": policy()}, "deciderTimeout")]:
            r = c.post("/v1/sandboxes", json={"rootfs": ROOTFS, **body})
            assert r.status_code == 400 and r.json()["error"]["message"].startswith(field + ": "), (body, r.text)
        assert c.get("/v1/sandboxes").json()["sandboxes"] == []


def test_client_decider_yes_no_and_no_answer(service, world):
    asked: List[str] = []

    def decide(request):
        asked.append(f"{request.host}:{request.port}")
        if request.host == "b.test":
            return True, "the docs server"
        if request.host == "c.test":
            return False, "not for this task"
        time.sleep(4)  # past the deadline: no answer
        return True

    with Sandbox.create(policy=policy("a.test"), rootfs=ROOTFS, timeout=120, on_egress_request=decide,
                        egress_request_timeout=2) as sbx:
        assert sbx.get_info().sandbox_id == sbx.sandbox_id
        assert fetch(sbx, world, "b.test") == BODY.decode()
        out = fetch(sbx, world, "c.test")
        assert "c.test port %d was refused by the decider: not for this task" % world.port in out, out
        out = fetch(sbx, world, "d.test")
        assert "matches no rule and the decider did not answer: the decider gave no answer within 2s" in out, out
        # Answers are remembered: b.test is not asked again; a rule's host never is.
        assert fetch(sbx, world, "b.test") == BODY.decode()
        assert "allows ports 80,443" in fetch(sbx, world, "a.test")
        assert asked == [f"b.test:{world.port}", f"c.test:{world.port}", f"d.test:{world.port}"], asked

        # The decisions and the reasons reach the audit log, with who answered.
        yes = egress_decisions(service, sbx.sandbox_id, "b.test", 2)[0]
        assert yes["decider"] == "allow" and yes["rule"] == "decider", yes
        assert yes["reason"] == f"allowed by the decider: the docs server (answered by api unix uid {os.getuid()} pid {os.getpid()})", yes
        no = egress_decisions(service, sbx.sandbox_id, "c.test")[0]
        assert no["decider"] == "deny" and "not for this task" in no["reason"], no
        silent = egress_decisions(service, sbx.sandbox_id, "d.test")[0]
        assert silent["decider"] == "error", silent


def test_events_of_a_client_decided_sandbox(service, world):
    # Without the SDK's follower: the questions, answers and expiries as events.
    with service.client() as c:
        r = c.post("/v1/sandboxes", json={"rootfs": ROOTFS, "timeout": 120, "policy": policy(), "decider": "client",
                                           "deciderTimeout": 2})
        assert r.status_code == 201 and r.json()["decider"] == "client" and r.json()["deciderTimeout"] == 2, r.text
        sid = r.json()["id"]
        try:
            sbx = Sandbox.connect(sid)
            # Nobody answers: the question expires at the deadline, a refusal.
            out = fetch(sbx, world, "c.test")
            assert "the decider gave no answer within 2s" in out, out
            events = c.get(f"/v1/sandboxes/{sid}/events").json()["events"]
            needed = [e for e in events if e["type"] == "egress_decision_needed"]
            expired = [e for e in events if e["type"] == "egress_decision_expired"]
            assert len(needed) == 1 and needed[0]["details"]["host"] == "c.test", events
            assert expired and expired[0]["details"]["requestId"] == needed[0]["details"]["requestId"], events
            rid = needed[0]["details"]["requestId"]
            r = c.post(f"/v1/sandboxes/{sid}/network/decisions/{rid}", json={"allow": True})
            assert r.status_code == 409 and "expired" in r.json()["error"]["message"], r.text
            assert c.get(f"/v1/sandboxes/{sid}/network/decisions").json() == {"requests": []}

            # A question answered by hand while it waits: listed as pending, then decided.
            holder: dict = {}
            t = threading.Thread(target=lambda: holder.update(out=fetch(sbx, world, "b.test")))
            t.start()
            deadline = time.monotonic() + 10
            pending: list = []
            while not pending and time.monotonic() < deadline:
                pending = c.get(f"/v1/sandboxes/{sid}/network/decisions").json()["requests"]
                time.sleep(0.05)
            assert pending and pending[0]["host"] == "b.test" and pending[0]["port"] == world.port, pending
            r = c.post(f"/v1/sandboxes/{sid}/network/decisions/{pending[0]['requestId']}",
                       json={"allow": True, "reason": "by hand"})
            assert r.status_code == 200 and r.json() == {"requestId": pending[0]["requestId"], "allow": True,
                                                         "reason": "by hand"}, r.text
            t.join(30)
            assert holder["out"] == BODY.decode()
            r = c.post(f"/v1/sandboxes/{sid}/network/decisions/{pending[0]['requestId']}", json={"allow": False})
            assert r.status_code == 409 and "answered" in r.json()["error"]["message"], r.text
            events = c.get(f"/v1/sandboxes/{sid}/events").json()["events"]
            answered = [e["details"] for e in events if e["type"] == "egress_decision_answered"]
            assert answered and answered[0]["allow"] is True and answered[0]["reason"] == "by hand", events
            assert answered[0]["by"] == f"api unix uid {os.getuid()} pid {os.getpid()}", answered
            # The warden's record of it, read from the sandbox's audit log as an egress event.
            deadline = time.monotonic() + 10
            recorded: list = []
            while not recorded and time.monotonic() < deadline:
                recorded = [e["details"]["decision"] for e in c.get(f"/v1/sandboxes/{sid}/events").json()["events"]
                            if e["type"] == "egress" and e["details"]["decision"]["host"] == "b.test"]
                time.sleep(0.1)
            assert recorded and recorded[0]["decider"] == "allow" and recorded[0]["reason"] == (
                f"allowed by the decider: by hand (answered by api unix uid {os.getuid()} pid {os.getpid()})"), (
                recorded, [e["type"] for e in c.get(f"/v1/sandboxes/{sid}/events").json()["events"]],
                audit(sid, "egress", 0, 0))
            sbx.close()
        finally:
            c.delete(f"/v1/sandboxes/{sid}")


def test_a_client_that_goes_away_answers_nothing(service, world):
    sbx = Sandbox.create(policy=policy(), rootfs=ROOTFS, timeout=120, on_egress_request=lambda r: True,
                         egress_request_timeout=2)
    try:
        assert fetch(sbx, world, "b.test") == BODY.decode()
        sbx.close()  # the follower goes with the client; the sandbox stays
        again = Sandbox.connect(sbx.sandbox_id)
        try:
            started = time.monotonic()
            out = fetch(again, world, "c.test")
            assert "the decider gave no answer within 2s" in out, out
            assert time.monotonic() - started < 15
            # A client that comes back answers the next question.
            again.close()
            again = Sandbox.connect(sbx.sandbox_id, on_egress_request=lambda r: r.host == "d.test")
            assert fetch(again, world, "d.test") == BODY.decode()
        finally:
            again.kill()
            again.close()
    finally:
        sbx.close()


def test_async_sandbox_network_and_client_decider(service, world):
    async def main() -> None:
        async def decide(request):
            await asyncio.sleep(0.1)
            return request.host == "b.test", "async prompt"

        async with await AsyncSandbox.create(policy=policy(), rootfs=ROOTFS, timeout=120, on_egress_request=decide,
                                             egress_request_timeout=5) as sbx:
            run = await sbx.commands.run(f"wget -q -O- http://b.test:{world.port}/ 2>&1; "
                                         f"wget -q -O- http://c.test:{world.port}/ 2>&1", timeout=30)
            assert run.stdout.startswith(BODY.decode()), run.stdout
            assert "was refused by the decider: async prompt" in run.stdout, run.stdout
            change = await sbx.network.allow("c.test")
            assert change.changes == ["added allow c.test"]
            assert [r.rule for r in await sbx.network.rules()] == ["127.0.0.1", "c.test"]
            change = await sbx.network.deny("c.test")
            assert change.changes == ["removed allow c.test"]
            assert (await sbx.network.stats()).allowed >= 1
            assert await sbx.network.pending() == []

    asyncio.run(main())


def test_a_restarted_service_still_hears_the_question(service, world):
    with service.client() as c:
        r = c.post("/v1/sandboxes", json={"rootfs": ROOTFS, "timeout": 120, "policy": policy(), "decider": "client",
                                           "deciderTimeout": 5})
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
    service.stop()
    service.start()
    sbx = Sandbox.connect(sid, on_egress_request=lambda r: (True, "after the restart"))
    try:
        assert sbx.get_info().state == "running"
        assert fetch(sbx, world, "e.test") == BODY.decode()
        decision = egress_decisions(service, sid, "e.test")[0]
        assert decision["decider"] == "allow" and "after the restart" in decision["reason"], decision
    finally:
        sbx.kill()
        sbx.close()
