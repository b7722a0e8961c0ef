"""The warm pool (`safehouse serve --warm POLICY:ROOTFS=N`): a matching create is served
from it and it refills; the sandbox handed out has the request's env, metadata and
timeout (the deadline from the hand-out); each is handed out once; a create that does
not match is made as before; pool sandboxes are listed to nobody, go at the service's
stop, and are adopted or removed by a restarted service."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import List

import pytest

from conftest import ROOTFS, SAFEHOUSE, Service
from safehouse import Sandbox, NotFoundError


def warm_flag(count: int, rootfs: str = ROOTFS) -> List[str]:
    return ["--warm", f"default:{rootfs}={count}"]


def wait_containers(svc: Service, count: int, timeout: float = 60) -> List[str]:
    """The runtime's containers once there are `count` of them (pool and clients') and
    each is up: a container is listed while its `run --detach` is still under way, and
    a pool sandbox joins its pool only once its record has the init's pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = svc.containers()
        pids = {r["id"]: r["pid"] for r in records(svc)}
        if len(ids) == count and all(pids.get(i, 0) > 0 for i in ids):
            time.sleep(0.2)  # from its record's last write to its pool
            return ids
        time.sleep(0.1)
    raise AssertionError(f"wanted {count} containers, have {svc.containers()}")


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def records(svc: Service) -> List[dict]:
    """The service's records on disk (one removed while read is left out)."""
    found = []
    for d in Path(svc.state_dir).iterdir():
        try:
            found.append(json.loads((d / "sandbox.json").read_text()))
        except FileNotFoundError:
            pass
    return found


def test_bad_warm_flags_are_one_line_errors(private_tmp):
    for value, words in [("default=2", "POLICY:ROOTFS=N"), (f"default:{ROOTFS}=0", "count"),
                         (f"default:{ROOTFS}=x", "count"), ("default:relative/path=1", "absolute"),
                         (f"default:{private_tmp}/missing=1", "not a directory"), (f"../p:{ROOTFS}=1", "policy name")]:
        out = subprocess.run([SAFEHOUSE, "serve", "--socket", str(private_tmp / "api.sock"), "--root", str(private_tmp / "root"),
                              "--state-dir", str(private_tmp / "state"), "--warm", value], capture_output=True, text=True, timeout=20)
        assert out.returncode != 0, value
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "--warm" in lines[0] and words in lines[0], (value, out.stderr)
        assert not (private_tmp / "api.sock").exists()


def test_create_is_served_from_the_pool_which_refills(private_tmp):
    svc = Service(private_tmp, extra=warm_flag(2)).start()
    try:
        pool = set(wait_containers(svc, 2))
        # Waiting sandboxes are nobody's: not listed, not reachable by id.
        assert Sandbox.list(url=svc.url) == []
        for sid in pool:
            with pytest.raises(NotFoundError):
                Sandbox.connect(sid, url=svc.url)
        time.sleep(3)  # the deadline must start at the hand-out, not at the warm-up
        before = time.time()
        sbx = Sandbox.create(rootfs=ROOTFS, timeout=30, envs={"GREETING": "from the request"},
                             metadata={"owner": "alice"}, url=svc.url)
        after = time.time()
        assert sbx.sandbox_id in pool
        info = sbx.get_info()
        assert info.metadata == {"owner": "alice"}
        created, expires = parse_time(info.started_at), parse_time(info.end_at)
        assert before - 0.5 <= created <= after + 0.5
        assert abs(expires - created - 30) < 0.5
        assert sbx.commands.run("echo $GREETING").stdout == "from the request\n"
        # The pool makes another in the background; the client still sees one sandbox.
        ids = wait_containers(svc, 3)
        assert [s.sandbox_id for s in Sandbox.list(url=svc.url)] == [sbx.sandbox_id]
        refill = set(ids) - pool
        assert len(refill) == 1
        # Both the records on disk: the one handed out is the client's, the others wait.
        by_id = {r["id"]: r for r in records(svc)}
        assert by_id[sbx.sandbox_id].get("warm") is None and by_id[sbx.sandbox_id]["env"] == {"GREETING": "from the request"}
        assert all(by_id[i]["warm"] is True for i in set(ids) - {sbx.sandbox_id})
        sbx.kill()
    finally:
        assert svc.cleanup() == []


def test_timeout_runs_from_the_hand_out(private_tmp):
    svc = Service(private_tmp, extra=warm_flag(1)).start()
    try:
        pool = wait_containers(svc, 1)
        sbx = Sandbox.create(rootfs=ROOTFS, timeout=2, url=svc.url)
        assert sbx.sandbox_id in pool
        assert sbx.commands.run("echo alive").stdout == "alive\n"
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and sbx.sandbox_id in svc.containers():
            time.sleep(0.2)
        assert sbx.sandbox_id not in svc.containers()
        with pytest.raises(NotFoundError):
            sbx.get_info()
    finally:
        assert svc.cleanup() == []


def test_each_pool_sandbox_is_handed_out_once(private_tmp):
    svc = Service(private_tmp, extra=warm_flag(2)).start()
    try:
        wait_containers(svc, 2)
        first = Sandbox.create(rootfs=ROOTFS, timeout=60, url=svc.url)
        assert first.commands.run("echo secret-of-first > /tmp/secret && cat /tmp/secret").stdout == "secret-of-first\n"
        first.kill()
        seen = {first.sandbox_id}
        # Four more: the pool's second, then its refills or new ones; never the first again,
        # and none with its file.
        for _ in range(4):
            sbx = Sandbox.create(rootfs=ROOTFS, timeout=60, url=svc.url)
            assert sbx.sandbox_id not in seen
            seen.add(sbx.sandbox_id)
            out = sbx.commands.run("cat /tmp/secret")
            assert out.exit_code != 0 and "secret-of-first" not in out.stdout
            assert sbx.commands.run("echo mine > /tmp/secret").exit_code == 0
            sbx.kill()
    finally:
        assert svc.cleanup() == []


def test_a_create_the_pool_does_not_match_is_made_as_before(private_tmp):
    other = private_tmp / "other-rootfs"
    shutil.copytree(ROOTFS, other, symlinks=True)
    svc = Service(private_tmp, extra=warm_flag(1)).start()
    try:
        pool = set(wait_containers(svc, 1))
        sbx = Sandbox.create(rootfs=str(other), timeout=60, url=svc.url)
        assert sbx.sandbox_id not in pool
        assert sbx.commands.run("echo cold").stdout == "cold\n"
        assert set(svc.containers()) == pool | {sbx.sandbox_id}
        # A symlink to the pool's root is the same root: served from the pool.
        link = private_tmp / "link-rootfs"
        link.symlink_to(ROOTFS)
        warm = Sandbox.create(rootfs=str(link), timeout=60, url=svc.url)
        assert warm.sandbox_id in pool
        assert warm.get_info().rootfs == str(link)
        sbx.kill()
        warm.kill()
    finally:
        assert svc.cleanup() == []


def test_service_stop_removes_the_pool_and_keeps_clients_sandboxes(private_tmp):
    svc = Service(private_tmp, extra=warm_flag(2)).start()
    try:
        wait_containers(svc, 2)
        kept = Sandbox.create(rootfs=ROOTFS, timeout=120, url=svc.url)
        wait_containers(svc, 3)  # refilled
        svc.stop()
        assert svc.containers() == [kept.sandbox_id]
        assert [r["id"] for r in records(svc)] == [kept.sandbox_id]
        svc.start()
        assert [s.sandbox_id for s in Sandbox.list(url=svc.url)] == [kept.sandbox_id]
        wait_containers(svc, 3)
    finally:
        assert svc.cleanup() == []


def test_a_killed_service_leaves_a_pool_adopted_or_removed(private_tmp):
    svc = Service(private_tmp, extra=warm_flag(2)).start()
    try:
        pool = set(wait_containers(svc, 2))
        svc.proc.kill()
        svc.proc.wait()
        # Started again with the same pool: the same two sandboxes wait, none more.
        svc.start()
        assert set(wait_containers(svc, 2)) == pool
        time.sleep(1.5)
        assert set(svc.containers()) == pool
        assert Sandbox.list(url=svc.url) == []
        sbx = Sandbox.create(rootfs=ROOTFS, timeout=60, url=svc.url)
        assert sbx.sandbox_id in pool
        assert sbx.commands.run("echo adopted").stdout == "adopted\n"
        sbx.kill()
        wait_containers(svc, 2)
        svc.proc.kill()
        svc.proc.wait()
        # Started with no pool: the waiting ones are deleted at start.
        svc.extra = []
        svc.start()
        assert svc.containers() == []
        assert records(svc) == []
    finally:
        assert svc.cleanup() == []
