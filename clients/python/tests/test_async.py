"""AsyncSandbox: the same calls as Sandbox over httpx.AsyncClient, run with asyncio
(several sandboxes and commands at once on one event loop)."""

from __future__ import annotations

import asyncio
import time

import pytest

from conftest import ROOTFS
from safehouse import AsyncSandbox, ConflictError, InvalidArgumentError, NotFoundError


def test_lifecycle_commands_files(service):
    async def main():
        async with await AsyncSandbox.create(rootfs=ROOTFS, timeout=60, metadata={"suite": "async"}) as sbx:
            info = await sbx.get_info()
            assert info.state == "running" and info.metadata == {"suite": "async"}
            assert [s.sandbox_id for s in await AsyncSandbox.list(metadata={"suite": "async"})] == [sbx.sandbox_id]
            seen = []
            r = await sbx.commands.run("echo one; sleep 0.5; echo two; echo err >&2; exit 4", on_stdout=seen.append)
            assert (r.stdout, r.stderr, r.exit_code) == ("one\ntwo\n", "err\n", 4)
            assert "".join(seen) == "one\ntwo\n"
            assert (await sbx.commands.run(["cat"], stdin="in\n")).stdout == "in\n"
            r = await sbx.commands.run("sleep 10", timeout=1)
            assert r.timed_out and r.exit_code == 124

            async def chunks():
                for part in (b"ab", b"cd"):
                    yield part

            assert (await sbx.files.write("/scratch/a.bin", chunks())).size == 4
            assert await sbx.files.read("/scratch/a.bin", format="bytes") == b"abcd"
            assert await sbx.files.make_dir("/scratch/d/e") is True
            assert [e.name for e in await sbx.files.list("/scratch")] == ["a.bin", "d"]
            await sbx.files.remove("/scratch/d")
            assert await sbx.files.exists("/scratch/d") is False
            with pytest.raises(InvalidArgumentError):
                await sbx.files.read("relative")

            await sbx.set_timeout(120)
            await sbx.pause()
            assert (await sbx.get_info()).state == "paused"
            with pytest.raises(ConflictError):
                await sbx.commands.run("true")
            await sbx.resume(timeout=90)
            assert await sbx.is_running()

            again = await AsyncSandbox.connect(sbx.sandbox_id)
            assert (await again.commands.run("echo connected")).stdout == "connected\n"
            await again.close()
            sid = sbx.sandbox_id
        assert sid not in [s.sandbox_id for s in await AsyncSandbox.list()]
        with pytest.raises(NotFoundError):
            await AsyncSandbox.connect(sid)

    asyncio.run(main())
    assert service.containers() == []


def test_background_and_events(service):
    async def main():
        sbx = await AsyncSandbox.create(rootfs=ROOTFS, timeout=60)
        events = []

        async def follow():
            async for event in sbx.events():
                events.append(event.type)

        follower = asyncio.create_task(follow())
        h = await sbx.commands.run(["cat"], background=True)
        assert [p.id for p in await sbx.commands.list()] == [h.id]
        await h.send_stdin("hello\n")
        await h.close_stdin()
        r = await h.wait()
        assert (r.stdout, r.exit_code) == ("hello\n", 0)
        h2 = await sbx.commands.run("sleep 300", background=True)
        assert await h2.kill() is True
        assert (await (await sbx.commands.connect(h2.id)).wait()).killed
        assert await sbx.commands.kill(h2.id) is False
        await sbx.pause()
        await sbx.resume()
        assert await sbx.kill() is True
        await asyncio.wait_for(follower, 20)
        await sbx.close()
        lifecycle = [t for t in events if t in ("created", "paused", "resumed", "killed")]
        assert lifecycle == ["created", "paused", "resumed", "killed"]

    asyncio.run(main())


def test_concurrent_sandboxes_on_one_loop(service):
    # Three sandboxes, a command in each, at once: the async client does not serialise them.
    async def one(i: int) -> float:
        async with await AsyncSandbox.create(rootfs=ROOTFS, timeout=60) as sbx:
            started = time.monotonic()
            r = await sbx.commands.run(f"sleep 2; echo {i}")
            assert r.stdout == f"{i}\n"
            return time.monotonic() - started

    async def main():
        started = time.monotonic()
        waits = await asyncio.gather(*(one(i) for i in range(3)))
        return time.monotonic() - started, waits

    total, waits = asyncio.run(main())
    assert all(w >= 2 for w in waits)
    assert total < 2 * 3, f"three 2 s commands took {total:.1f}s: not concurrent"
