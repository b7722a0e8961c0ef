"""Events: the lifecycle in order on the stream of all sandboxes and on a sandbox's own
(which replays from `created` and ends when the sandbox goes), expiry, and what the
audit log records: egress decisions, the change set, the limits hit."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from conftest import BACKEND, ROOTFS
from safehouse import NotFoundError, Sandbox

LIFECYCLE = {"created", "paused", "resumed", "timeout_set", "killed", "expired"}


class Follower:
    """Reads an event iterator on a thread into a queue."""

    def __init__(self, events) -> None:
        self.queue: "queue.Queue" = queue.Queue()
        self.ended = threading.Event()

        def run() -> None:
            try:
                for event in events:
                    self.queue.put(event)
            except Exception:
                # The stream of all sandboxes lasts until the service stops, at the end of the module.
                pass
            finally:
                self.ended.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def until(self, predicate, seconds: float = 20.0):
        """Events up to and including the first that matches."""
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                event = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            got.append(event)
            if predicate(event):
                return got
        raise AssertionError(f"no matching event within {seconds}s; saw {[(e.sandbox_id, e.type) for e in got]}")


def test_lifecycle_in_order_on_the_stream_of_all(service):
    follower = Follower(Sandbox.all_events())
    time.sleep(0.5)  # the stream is open before the sandbox is made
    sbx = Sandbox.create(rootfs=ROOTFS, timeout=60)
    sid = sbx.sandbox_id
    sbx.set_timeout(120)
    sbx.pause()
    sbx.resume()
    sbx.kill()
    sbx.close()
    events = [e for e in follower.until(lambda e: e.sandbox_id == sid and e.type == "killed") if e.sandbox_id == sid]
    assert [e.type for e in events if e.type in LIFECYCLE] == ["created", "timeout_set", "paused", "resumed", "killed"]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert events[0].details["policy"] == "default"
    assert "expiresAt" in next(e for e in events if e.type == "timeout_set").details


def test_a_sandboxs_stream_replays_from_created_and_ends(service):
    sbx = Sandbox.create(rootfs=ROOTFS, timeout=60)
    sbx.set_timeout(90)
    follower = Follower(sbx.events())
    seen = follower.until(lambda e: e.type == "timeout_set")
    assert [e.type for e in seen] == ["created", "timeout_set"]
    # The root's upper layer holds it (/scratch and /tmp are tmpfs of their own).
    sbx.commands.run("echo data > /etc/made-here.txt")
    sbx.kill()
    rest = follower.until(lambda e: e.type == "killed")
    assert follower.ended.wait(10), "the sandbox's stream did not end when it was removed"
    # The change set the runtime recorded at delete came before the end.
    files = [e for e in rest if e.type == "files"]
    assert files and files[0].details["created"] >= 1
    assert any(entry["path"].endswith("/made-here.txt") for entry in files[0].details["entries"])
    # Resuming after a seq skips what came before it.
    assert all(e.sandbox_id == sbx.sandbox_id for e in seen + rest)
    with pytest.raises(NotFoundError):
        next(iter(sbx.events()))
    sbx.close()


@pytest.mark.skipif(BACKEND == "gvisor", reason="a gVisor sandbox's root lives in gVisor's memory: the host has no upper directory to watch")
def test_file_changes_while_it_runs(service):
    everything = Follower(Sandbox.all_events())
    time.sleep(0.5)  # the stream of all is open before the sandbox is made
    with Sandbox.create(rootfs=ROOTFS, timeout=60) as sbx:
        follower = Follower(sbx.events())
        sbx.commands.run("mkdir -p /live/sub && echo hi > /live/sub/new.txt && echo x >> /etc/hostname && rm /bin/vi")
        wanted = {("/live", "created"), ("/live/sub", "created"), ("/live/sub/new.txt", "created"),
                  ("/etc/hostname", "modified"), ("/bin/vi", "deleted")}
        seen = set()

        def all_seen(e) -> bool:
            if e.type == "file_changed":
                seen.add((e.details["path"], e.details["kind"]))
            return wanted <= seen

        events = follower.until(all_seen)
        # Published while the sandbox runs, not at its delete.
        assert "killed" not in [e.type for e in events]
        assert sbx.is_running()
        # /etc and /live/sub's parents the image has are no change of their own.
        assert ("/etc", "created") not in seen and ("/etc", "modified") not in seen
        others = everything.until(lambda e: e.sandbox_id == sbx.sandbox_id and e.type == "file_changed"
                                  and e.details["path"] == "/live/sub/new.txt")
        assert others[-1].details["kind"] == "created"

        # Made then removed within one gathering is no change; a flood is cut short and counted.
        sbx.commands.run("echo tmp > /gone.txt; rm /gone.txt; mkdir /flood; for i in $(seq 1000); do echo $i > /flood/f$i; done")
        flood = follower.until(lambda e: e.type == "file_changes_dropped")
        assert flood[-1].details["count"] > 0
        changed = [e.details["path"] for e in flood if e.type == "file_changed"]
        assert "/gone.txt" not in changed
        assert 0 < len([p for p in changed if p.startswith("/flood/")]) < 1000


def test_after_skips_what_was_seen(service):
    with Sandbox.create(rootfs=ROOTFS, timeout=60) as sbx:
        sbx.pause()
        sbx.resume()
        first = Follower(sbx.events()).until(lambda e: e.type == "resumed")
        later = Follower(sbx.events(after=first[0].seq)).until(lambda e: e.type == "resumed")
        assert [e.type for e in later] == ["paused", "resumed"]


def test_expired(service):
    sbx = Sandbox.create(rootfs=ROOTFS, timeout=2)
    follower = Follower(sbx.events())
    events = follower.until(lambda e: e.type in ("expired", "killed"))
    assert events[-1].type == "expired"
    sbx.close()


def test_egress_decision(service):
    # The web profile's proxy refuses a name off its allowlist: the refusal is made on
    # this machine (nothing leaves it), and the warden records it as it is made.
    with Sandbox.create(policy="web", rootfs=ROOTFS, timeout=60) as sbx:
        follower = Follower(sbx.events())
        sbx.commands.run("timeout 5 wget -q -O- http://other.test/ || true", timeout=20)
        events = follower.until(lambda e: e.type == "egress")
        decision = events[-1].details["decision"]
        assert decision["decision"] == "denied" and decision["host"] == "other.test", decision


def test_limit_hit_is_reported(service):
    # offline-strict allows 64 processes: the forks past them are refused, and the
    # warden's count comes out as a limit event.
    with Sandbox.create(policy="offline-strict", rootfs=ROOTFS, timeout=60) as sbx:
        follower = Follower(sbx.events())
        sbx.commands.run("for i in $(seq 80); do sleep 5 & done 2>/dev/null; wait", timeout=30)
        events = follower.until(lambda e: e.type == "limit")
        assert events[-1].details["limit"] == "pids", events[-1].details


def test_stream_errors(service):
    with service.client() as c:
        r = c.get("/v1/sandboxes/sbx-none/events", headers={"Accept": "text/event-stream"})
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
        r = c.get("/v1/events?after=-1", headers={"Accept": "text/event-stream"})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("after: ")
        r = c.get("/v1/events?since=3", headers={"Accept": "text/event-stream"})
        assert r.status_code == 400 and r.json()["error"]["message"].startswith("since: ")
        assert c.post("/v1/events").status_code == 405


def test_poll_without_an_event_stream(service):
    # Without Accept: text/event-stream the kept events come as one JSON answer that ends.
    with Sandbox.create(rootfs=ROOTFS, timeout=60) as sbx, service.client() as c:
        sbx.pause()
        sbx.resume()
        events = c.get(f"/v1/sandboxes/{sbx.sandbox_id}/events").json()["events"]
        assert [e["type"] for e in events] == ["created", "paused", "resumed"]
        assert set(events[0]) == {"seq", "sandboxId", "type", "time", "details"}
        later = c.get("/v1/events", params={"after": events[0]["seq"]}).json()["events"]
        assert [e["type"] for e in later if e["sandboxId"] == sbx.sandbox_id] == ["paused", "resumed"]
