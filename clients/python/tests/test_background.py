"""Background commands (handles, list, kill, stdin, wait and reconnect), a client gone
mid-stream (the command runs on, or is killed when it asked), and nothing leaked."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from safehouse import ConflictError, NotFoundError


def wait_until(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_background_handle_list_wait(sandbox):
    err = []
    h = sandbox.commands.run("echo one; sleep 1; echo two >&2; exit 5", background=True, on_stderr=err.append)
    assert h.id.startswith("cmd-")
    running = sandbox.commands.list()
    assert h.id in [p.id for p in running]
    info = next(p for p in running if p.id == h.id)
    assert info.background and info.state == "running" and info.cmd == ["/bin/sh", "-c", "echo one; sleep 1; echo two >&2; exit 5"]
    assert wait_until(lambda: sandbox.commands.connect(h.id).pid is not None, 5)
    out = []
    r = h.wait(on_stdout=out.append)
    assert (r.stdout, r.stderr, r.exit_code, r.killed) == ("one\n", "two\n", 5, False)
    assert out == ["one\n"] and err == ["two\n"] and h.exit_code == 5
    assert h.id not in [p.id for p in sandbox.commands.list()]
    # Finished, still found for a while: its output is replayed whole.
    again = sandbox.commands.connect(h.id)
    assert again.info.state == "exited" and again.info.exit_code == 5
    assert again.wait().stdout == "one\n"
    assert sandbox.commands.kill(h.id) is False


def test_stdin_of_a_background_command(sandbox):
    h = sandbox.commands.run(["cat"], background=True, stdin="first\n")
    h.send_stdin("second\n")
    sandbox.commands.send_stdin(h.id, "third\n")
    h.close_stdin()
    r = h.wait(timeout=20)
    assert (r.stdout, r.exit_code) == ("first\nsecond\nthird\n", 0)
    with pytest.raises(ConflictError):
        h.send_stdin("late")


def test_kill_a_background_command_and_its_children(sandbox):
    h = sandbox.commands.run("sleep 301 & sleep 302", background=True)
    assert wait_until(lambda: "sleep 302" in sandbox.commands.run("ps -o args").stdout)
    assert h.kill() is True
    r = h.wait(timeout=20)
    assert r.killed and r.exit_code != 0
    assert wait_until(lambda: "sleep 30" not in sandbox.commands.run("ps -o args").stdout)


def test_reconnect_reads_on_from_where_it_was(service, sandbox):
    h = sandbox.commands.run("for i in 1 2 3 4 5 6; do echo $i; sleep 0.3; done", background=True)
    seen = []
    # Follow the stream for a while, then drop the connection mid-stream.
    with service.client() as c:
        with c.stream("GET", f"/v1/sandboxes/{sandbox.sandbox_id}/commands/{h.id}/events",
                      headers={"Accept": "text/event-stream"}) as r:
            last = 0
            for line in r.iter_lines():
                if line.startswith("id: "):
                    last = int(line[4:])
                if line.startswith("data: ") and '"data"' in line:
                    seen.append(line)
                    if len(seen) == 2:
                        break
    # The command ran on; a reconnect from the last id gets exactly the rest.
    rest = []
    with service.client() as c:
        with c.stream("GET", f"/v1/sandboxes/{sandbox.sandbox_id}/commands/{h.id}/events",
                      headers={"Accept": "text/event-stream", "Last-Event-ID": str(last)}) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    rest.append(line)
    assert [l for l in rest if '"data"' in l] == [f'data: {{"data":"{i}\\n"}}' for i in (3, 4, 5, 6)]
    assert '"exitCode":0' in rest[-1]
    # The same as one JSON answer, for a client without an event stream.
    with service.client() as c:
        body = c.get(f"/v1/sandboxes/{sandbox.sandbox_id}/commands/{h.id}/events", params={"after": last}).json()
    assert body["state"] == "exited"
    assert [e.get("data") for e in body["events"]] == ["3\n", "4\n", "5\n", "6\n", None]
    assert body["events"][-1]["event"] == "exit" and body["events"][0]["seq"] == last + 1


def test_client_gone_mid_stream_leaves_the_command_running(service, sandbox):
    with service.client() as c:
        with c.stream("POST", f"/v1/sandboxes/{sandbox.sandbox_id}/commands",
                      json={"cmd": "echo started; sleep 303; echo done"}, headers={"Accept": "text/event-stream"}) as r:
            cid = None
            for line in r.iter_lines():
                if line.startswith("data: ") and '"id"' in line and cid is None:
                    cid = line.split('"id":"')[1].split('"')[0]
                if "started" in line:
                    break
    time.sleep(1)
    running = sandbox.commands.list()
    assert cid in [p.id for p in running]
    assert "sleep 303" in sandbox.commands.run("ps -o args").stdout
    assert sandbox.commands.kill(cid)
    assert sandbox.commands.connect(cid).wait(timeout=20).stdout == "started\n"


def test_client_gone_mid_stream_kills_when_asked(service, sandbox):
    with service.client() as c:
        with c.stream("POST", f"/v1/sandboxes/{sandbox.sandbox_id}/commands",
                      json={"cmd": "echo started; sleep 304 & sleep 305", "killOnDisconnect": True},
                      headers={"Accept": "text/event-stream"}) as r:
            for line in r.iter_lines():
                if "started" in line:
                    break
    assert wait_until(lambda: "sleep 30" not in sandbox.commands.run("ps -o args").stdout), \
        (sandbox.commands.run("ps -o pid,pgid,args").stdout, sandbox.commands.list())
    assert wait_until(lambda: sandbox.commands.list() == [])


def service_resources(pid: int):
    """The service's open descriptors and its zombie and live children."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            children.append((int(entry.name), fields[0]))
    return fds, children


def test_nothing_leaks(service, sandbox):
    pid = service.proc.pid
    sandbox.commands.run("true")  # the service's threads and pools are warm
    time.sleep(1)
    fds_before, children_before = service_resources(pid)
    assert [c for c in children_before if c[1] == "Z"] == []
    for kill in (False, True, False, True):
        with service.client() as c:
            with c.stream("POST", f"/v1/sandboxes/{sandbox.sandbox_id}/commands",
                          json={"cmd": "echo started; sleep 2", "killOnDisconnect": kill},
                          headers={"Accept": "text/event-stream"}) as r:
                for line in r.iter_lines():
                    if "started" in line:
                        break
    h = sandbox.commands.run(["cat"], background=True)
    h.kill()
    h.wait(timeout=20)
    # A process left in the background holding the output pipes: the command still
    # ends (its output read half a second more), its exec reaped.
    started = time.monotonic()
    assert sandbox.commands.run("echo bg; sleep 4 &").stdout == "bg\n"
    assert time.monotonic() - started < 3
    assert sandbox.commands.run("echo x", timeout=5).stdout == "x\n"
    assert wait_until(lambda: sandbox.commands.list() == [], 15)

    def settled():
        fds, children = service_resources(pid)
        return fds <= fds_before and children == []

    assert wait_until(settled, 10), (fds_before, service_resources(pid))


def test_command_routes_errors(service, sandbox):
    sid = sandbox.sandbox_id
    with service.client() as c:
        assert c.get(f"/v1/sandboxes/{sid}/commands/cmd-none").status_code == 404
        assert c.post(f"/v1/sandboxes/{sid}/commands/cmd-none/kill").status_code == 404
        assert c.get(f"/v1/sandboxes/sbx-none/commands").status_code == 404
        r = c.post(f"/v1/sandboxes/{sid}/commands", json={"cmd": "cat", "background": "yes"})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("background: ")
        r = c.post(f"/v1/sandboxes/{sid}/commands", json={"cmd": "cat", "killOnDisconnect": 1})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("killOnDisconnect: ")
        h = sandbox.commands.run(["cat"], background=True)
        r = c.post(f"/v1/sandboxes/{sid}/commands/{h.id}/stdin", json={})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("data: ")
        r = c.post(f"/v1/sandboxes/{sid}/commands/{h.id}/stdin", json={"data": 5})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("data: ")
        r = c.get(f"/v1/sandboxes/{sid}/commands/{h.id}/events?after=x", headers={"Accept": "text/event-stream"})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("after: ")
        assert c.delete(f"/v1/sandboxes/{sid}/commands/{h.id}").status_code == 405
        r = c.post(f"/v1/sandboxes/{sid}/commands/{h.id}/kill", content=b"{no", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("body: ")
        r = c.get(f"/v1/sandboxes/{sid}/commands/{h.id}?verbose=1")
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("verbose: ")
        sandbox.pause()
        r = c.post(f"/v1/sandboxes/{sid}/commands/{h.id}/kill")
        assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict")
        sandbox.resume()
        assert h.kill()
    with pytest.raises(NotFoundError):
        sandbox.commands.connect("cmd-none")
