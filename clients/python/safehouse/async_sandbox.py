"""``AsyncSandbox``: the same sandboxes and methods as ``Sandbox``, for asyncio
(``await AsyncSandbox.create(...)``, ``async with``, ``async for`` over events)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, AsyncIterable, AsyncIterator, Dict, Iterable, List, Literal, Optional, Union, overload

from . import _api, _decider
from ._command import CommandHandleState, OutputCollector, OutputHandler, run_result
from ._decider import EgressCallback
from ._models import (CommandResult, EgressRequest, EgressStats, EntryInfo, ImageInfo, NetworkChange, NetworkRule,
                      ProcessInfo, SandboxEvent, SandboxInfo, SnapshotInfo)
from .async_connection import AsyncConnection
from .errors import NotFoundError


class AsyncCommandHandle(CommandHandleState):
    """A background command (``await sbx.commands.run(..., background=True)``)."""

    def __init__(self, commands: "AsyncCommands", info: ProcessInfo, on_stdout: Optional[OutputHandler] = None,
                 on_stderr: Optional[OutputHandler] = None) -> None:
        super().__init__(info, on_stdout, on_stderr)
        self._commands = commands

    async def wait(self, on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None,
                   timeout: Optional[float] = None) -> CommandResult:
        """Follows the output (from where this handle left off) until the command exits."""
        collector = self._start_wait(on_stdout, on_stderr)
        if collector.result is None:
            sandbox = self._commands._sandbox
            async for event in sandbox._connection.stream(
                    _api.command_events(sandbox.sandbox_id, self.id, collector.last_seq, timeout)):
                collector.feed(*event)
        return collector.finished()

    async def kill(self) -> bool:
        return await self._commands.kill(self.id)

    async def send_stdin(self, data: str) -> None:
        await self._commands.send_stdin(self.id, data)

    async def close_stdin(self) -> None:
        await self._commands.close_stdin(self.id)


class AsyncCommands:
    """``sbx.commands`` of an AsyncSandbox."""

    def __init__(self, sandbox: "AsyncSandbox") -> None:
        self._sandbox = sandbox

    @overload
    async def run(self, cmd: Union[str, List[str]], *, background: Literal[False] = ..., cwd: Optional[str] = ...,
            envs: Optional[Dict[str, str]] = ..., timeout: Optional[float] = ..., stdin: Optional[str] = ...,
            on_stdout: Optional[OutputHandler] = ..., on_stderr: Optional[OutputHandler] = ...,
            raise_on_timeout: bool = ..., kill_on_disconnect: bool = ...) -> CommandResult: ...

    @overload
    async def run(self, cmd: Union[str, List[str]], *, background: Literal[True], cwd: Optional[str] = ...,
            envs: Optional[Dict[str, str]] = ..., timeout: Optional[float] = ..., stdin: Optional[str] = ...,
            on_stdout: Optional[OutputHandler] = ..., on_stderr: Optional[OutputHandler] = ...,
            raise_on_timeout: bool = ..., kill_on_disconnect: bool = ...) -> "AsyncCommandHandle": ...

    @overload
    async def run(self, cmd: Union[str, List[str]], *, background: bool, cwd: Optional[str] = ...,
            envs: Optional[Dict[str, str]] = ..., timeout: Optional[float] = ..., stdin: Optional[str] = ...,
            on_stdout: Optional[OutputHandler] = ..., on_stderr: Optional[OutputHandler] = ...,
            raise_on_timeout: bool = ..., kill_on_disconnect: bool = ...) -> Union[CommandResult, "AsyncCommandHandle"]: ...

    async def run(self, cmd: Union[str, List[str]], *, background: bool = False, cwd: Optional[str] = None,
                  envs: Optional[Dict[str, str]] = None, timeout: Optional[float] = None, stdin: Optional[str] = None,
                  on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None,
                  raise_on_timeout: bool = False, kill_on_disconnect: bool = False) -> Any:
        """As ``Sandbox.commands.run``: a CommandResult, or an AsyncCommandHandle with ``background=True``."""
        sandbox_id, connection = self._sandbox.sandbox_id, self._sandbox._connection
        if background:
            info = await connection.call(_api.start_command(sandbox_id, cmd, cwd, envs, timeout, stdin))
            return AsyncCommandHandle(self, info, on_stdout, on_stderr)
        collector = OutputCollector(on_stdout, on_stderr)
        async for event in connection.stream(_api.run_command(sandbox_id, cmd, cwd, envs, timeout, stdin,
                                                              kill_on_disconnect)):
            collector.feed(*event)
        return run_result(collector, timeout, raise_on_timeout)

    async def list(self) -> List[ProcessInfo]:
        return await self._sandbox._connection.call(_api.list_commands(self._sandbox.sandbox_id))

    async def connect(self, cmd_id: str) -> AsyncCommandHandle:
        info = await self._sandbox._connection.call(_api.get_command(self._sandbox.sandbox_id, cmd_id))
        return AsyncCommandHandle(self, info)

    async def kill(self, cmd_id: str) -> bool:
        return await self._sandbox._connection.call(_api.kill_command(self._sandbox.sandbox_id, cmd_id))

    async def send_stdin(self, cmd_id: str, data: str) -> None:
        await self._sandbox._connection.call(_api.send_stdin(self._sandbox.sandbox_id, cmd_id, data))

    async def close_stdin(self, cmd_id: str) -> None:
        await self._sandbox._connection.call(_api.close_stdin(self._sandbox.sandbox_id, cmd_id))


class AsyncFiles:
    """``sbx.files`` of an AsyncSandbox."""

    def __init__(self, sandbox: "AsyncSandbox") -> None:
        self._sandbox = sandbox

    async def write(self, path: str, data: Union[str, bytes, Iterable[bytes], AsyncIterable[bytes]]) -> EntryInfo:
        """Writes text (UTF-8), bytes, or an (async) iterable of byte chunks, streamed."""
        return await self._sandbox._connection.call(_api.write_file(self._sandbox.sandbox_id, path, data))

    async def read(self, path: str, format: str = "text") -> Union[str, bytes]:
        return await self._sandbox._connection.call(_api.read_file(self._sandbox.sandbox_id, path, format))

    async def list(self, path: str) -> List[EntryInfo]:
        return await self._sandbox._connection.call(_api.list_dir(self._sandbox.sandbox_id, path))

    async def make_dir(self, path: str) -> bool:
        return await self._sandbox._connection.call(_api.make_dir(self._sandbox.sandbox_id, path))

    async def remove(self, path: str) -> None:
        await self._sandbox._connection.call(_api.remove_path(self._sandbox.sandbox_id, path))

    async def exists(self, path: str) -> bool:
        return await self._sandbox._connection.call(_api.path_exists(self._sandbox.sandbox_id, path))


class AsyncNetwork:
    """``sbx.network``, awaited (Sandbox's Network)."""

    def __init__(self, sandbox: "AsyncSandbox") -> None:
        self._sandbox = sandbox

    async def allow(self, *rules: str) -> NetworkChange:
        return await self._sandbox._connection.call(_api.network_change(self._sandbox.sandbox_id, "allow", rules))

    async def deny(self, *rules: str) -> NetworkChange:
        return await self._sandbox._connection.call(_api.network_change(self._sandbox.sandbox_id, "deny", rules))

    async def rules(self) -> List[NetworkRule]:
        return await self._sandbox._connection.call(_api.network_rules(self._sandbox.sandbox_id))

    async def stats(self) -> EgressStats:
        return await self._sandbox._connection.call(_api.network_stats(self._sandbox.sandbox_id))

    async def pending(self) -> List[EgressRequest]:
        return await self._sandbox._connection.call(_api.pending_decisions(self._sandbox.sandbox_id))

    async def decide(self, request_id: str, allow: bool, reason: str = "") -> bool:
        return await self._sandbox._connection.call(
            _api.answer_decision(self._sandbox.sandbox_id, request_id, allow, reason))


async def _answer_egress(sandbox_id: str, callback: EgressCallback, connection: AsyncConnection) -> None:
    """Follows the sandbox's events and answers its egress questions with ``callback``
    (a function or a coroutine function), until the sandbox is gone or the task is
    cancelled. Each question is answered in a task of its own, so a slow prompt holds
    up no other."""
    async def answer(request: EgressRequest) -> None:
        try:
            result = callback(request)
            if inspect.isawaitable(result):
                result = await result
            allow, reason = _decider.verdict(result)
        except Exception as error:  # the callback's failure is a refusal, said so
            allow, reason = _decider.failure(error)
        await connection.call(_api.answer_decision(sandbox_id, request.request_id, allow, reason))

    pending = set()
    try:
        async for event in connection.stream(_api.sandbox_events(sandbox_id, None)):
            request = _decider.question(event)
            if request is not None:
                task = asyncio.ensure_future(answer(request))
                pending.add(task)
                task.add_done_callback(pending.discard)
    except Exception:
        pass  # the stream ends with the sandbox
    finally:
        for task in list(pending):
            task.cancel()
        await connection.close()


class AsyncSandbox:
    """A sandbox served by ``safehouse serve``, for asyncio; ``async with`` kills it on exit."""

    def __init__(self, info: SandboxInfo, connection: AsyncConnection) -> None:
        self._info = info
        self._connection = connection
        self.commands = AsyncCommands(self)
        self.files = AsyncFiles(self)
        self.network = AsyncNetwork(self)
        self._follower: Optional["asyncio.Task[None]"] = None

    @property
    def sandbox_id(self) -> str:
        return self._info.sandbox_id

    @classmethod
    async def create(cls, policy: Union[str, Dict[str, Any]] = "default", rootfs: Optional[str] = None, *, image: Optional[str] = None,
                     template: Optional[str] = None, snapshot: Optional[str] = None, timeout: Optional[int] = None,
                     envs: Optional[Dict[str, str]] = None, metadata: Optional[Dict[str, str]] = None,
                     url: Optional[str] = None, token: Optional[str] = None,
                     on_egress_request: Optional[EgressCallback] = None,
                     egress_request_timeout: Optional[float] = None) -> "AsyncSandbox":
        """Sandbox.create, awaited; ``on_egress_request`` may be a coroutine function,
        run in a task that follows the sandbox's events."""
        sandbox = await cls._open(_api.create_or_restore(policy, rootfs, image, template, snapshot, timeout, envs, metadata,
                                                         on_egress_request is not None, egress_request_timeout), url, token)
        if on_egress_request is not None:
            sandbox._follow_egress(on_egress_request, url, token)
        return sandbox

    @classmethod
    async def connect(cls, sandbox_id: str, *, url: Optional[str] = None, token: Optional[str] = None,
                      on_egress_request: Optional[EgressCallback] = None) -> "AsyncSandbox":
        sandbox = await cls._open(_api.get_sandbox(sandbox_id), url, token)
        if on_egress_request is not None:
            sandbox._follow_egress(on_egress_request, url, token)
        return sandbox

    def _follow_egress(self, callback: EgressCallback, url: Optional[str], token: Optional[str]) -> None:
        connection = AsyncConnection(url, token, request_timeout=30)
        self._follower = asyncio.ensure_future(_answer_egress(self.sandbox_id, callback, connection))

    @classmethod
    async def _open(cls, call: _api.Call[SandboxInfo], url: Optional[str], token: Optional[str]) -> "AsyncSandbox":
        """Sandbox._open, awaited; the connection is closed on cancellation too."""
        connection = AsyncConnection(url, token)
        try:
            info = await connection.call(call)
        except BaseException:
            await connection.close()
            raise
        return cls(info, connection)

    @staticmethod
    async def list(metadata: Optional[Dict[str, str]] = None, *, url: Optional[str] = None,
                   token: Optional[str] = None) -> List[SandboxInfo]:
        async with AsyncConnection(url, token) as connection:
            return await connection.call(_api.list_sandboxes(metadata))

    @staticmethod
    async def all_events(after: Optional[int] = None, *, url: Optional[str] = None,
                         token: Optional[str] = None) -> AsyncIterator[SandboxEvent]:
        async with AsyncConnection(url, token) as connection:
            async for event in connection.stream(_api.all_events(after)):
                yield event

    async def events(self, after: Optional[int] = None) -> AsyncIterator[SandboxEvent]:
        async for event in self._connection.stream(_api.sandbox_events(self.sandbox_id, after)):
            yield event

    async def get_info(self) -> SandboxInfo:
        self._info = await self._connection.call(_api.get_sandbox(self.sandbox_id))
        return self._info

    async def is_running(self) -> bool:
        try:
            return (await self.get_info()).state == "running"
        except NotFoundError:
            return False

    async def set_timeout(self, timeout: int) -> None:
        self._info = await self._connection.call(_api.set_timeout(self.sandbox_id, timeout))

    async def commit(self, name: str) -> ImageInfo:
        """Sandbox.commit, awaited."""
        return await self._connection.call(_api.commit(self.sandbox_id, name))

    async def snapshot(self, name: str) -> SnapshotInfo:
        """Sandbox.snapshot, awaited."""
        return await self._connection.call(_api.snapshot(self.sandbox_id, name))

    @staticmethod
    async def list_snapshots(*, url: Optional[str] = None, token: Optional[str] = None) -> List[SnapshotInfo]:
        """Sandbox.list_snapshots, awaited."""
        async with AsyncConnection(url, token) as connection:
            return await connection.call(_api.list_snapshots())

    @staticmethod
    async def delete_snapshot(name: str, *, url: Optional[str] = None, token: Optional[str] = None) -> None:
        """Sandbox.delete_snapshot, awaited."""
        async with AsyncConnection(url, token) as connection:
            await connection.call(_api.delete_snapshot(name))

    @staticmethod
    async def list_images(*, url: Optional[str] = None, token: Optional[str] = None) -> List[ImageInfo]:
        """Sandbox.list_images, awaited."""
        async with AsyncConnection(url, token) as connection:
            return await connection.call(_api.list_images())

    @staticmethod
    async def remove_image(name: str, *, url: Optional[str] = None, token: Optional[str] = None) -> None:
        """Sandbox.remove_image, awaited."""
        async with AsyncConnection(url, token) as connection:
            await connection.call(_api.remove_image(name))

    async def pause(self) -> None:
        self._info = await self._connection.call(_api.pause(self.sandbox_id))

    async def resume(self, timeout: Optional[int] = None) -> None:
        self._info = await self._connection.call(_api.resume(self.sandbox_id, timeout))

    async def kill(self) -> bool:
        killed = await self._connection.call(_api.kill_sandbox(self.sandbox_id))
        await self._stop_following()
        return killed

    async def close(self) -> None:
        await self._stop_following()
        await self._connection.close()

    async def _stop_following(self) -> None:
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            try:
                await follower
            except BaseException:
                pass

    async def __aenter__(self) -> "AsyncSandbox":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.kill()
        finally:
            await self.close()
