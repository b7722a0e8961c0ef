"""``AsyncSandbox``: the same sandboxes and methods as ``Sandbox``, for asyncio
(``await AsyncSandbox.create(...)``, ``async with``, ``async for`` over events)."""

from __future__ import annotations

from typing import Any, AsyncIterable, AsyncIterator, Dict, Iterable, List, Literal, Optional, Union, overload

from ._command import (CommandResult, OutputCollector, OutputHandler, ProcessInfo, SandboxEvent,
                       command_body)
from .async_connection import AsyncConnection
from .errors import ConflictError, InvalidArgumentError, NotFoundError, TimeoutError
from .sandbox import EntryInfo, SandboxInfo


class AsyncCommandHandle:
    """A background command (``await sbx.commands.run(..., background=True)``)."""

    def __init__(self, commands: "AsyncCommands", info: ProcessInfo, on_stdout: Optional[OutputHandler] = None,
                 on_stderr: Optional[OutputHandler] = None) -> None:
        self._commands = commands
        self.info = info
        # The handlers given to run(background=True): wait() calls them unless given others.
        self._collector = OutputCollector(on_stdout, on_stderr)

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def pid(self) -> Optional[int]:
        return self.info.pid

    @property
    def stdout(self) -> str:
        return "".join(self._collector.stdout)

    @property
    def stderr(self) -> str:
        return "".join(self._collector.stderr)

    @property
    def exit_code(self) -> Optional[int]:
        return self._collector.result.exit_code if self._collector.result else None

    async def wait(self, on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None,
                   timeout: Optional[float] = None) -> CommandResult:
        """Follows the output (from where this handle left off) until the command exits."""
        collector = self._collector
        collector.on_stdout = on_stdout or collector.on_stdout
        collector.on_stderr = on_stderr or collector.on_stderr
        if collector.result is None:
            async for event, seq, data in self._commands._sandbox._connection.stream(
                    "GET", f"{self._commands._path()}/{self.id}/events", params={"after": collector.last_seq},
                    timeout=timeout):
                collector.feed(event, seq, data)
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

    def _path(self) -> str:
        return f"/v1/sandboxes/{self._sandbox.sandbox_id}/commands"

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
        connection = self._sandbox._connection
        if background:
            body = command_body(cmd, cwd, envs, timeout, stdin, True, False)
            info = await connection.json("POST", self._path(), json_body=body)
            return AsyncCommandHandle(self, ProcessInfo.from_json(info), on_stdout, on_stderr)
        body = command_body(cmd, cwd, envs, timeout, stdin, False, kill_on_disconnect)
        collector = OutputCollector(on_stdout, on_stderr)
        async for event, seq, data in connection.stream("POST", self._path(), body=body, timeout=(timeout or 60) + 30):
            collector.feed(event, seq, data)
        result = collector.finished()
        if result.timed_out and raise_on_timeout:
            raise TimeoutError(f"command timed out after {timeout}s", "timeout", 0)
        return result

    async def list(self) -> List[ProcessInfo]:
        body = await self._sandbox._connection.json("GET", self._path())
        return [ProcessInfo.from_json(d) for d in body["commands"]]

    async def connect(self, cmd_id: str) -> AsyncCommandHandle:
        info = await self._sandbox._connection.json("GET", f"{self._path()}/{cmd_id}")
        return AsyncCommandHandle(self, ProcessInfo.from_json(info))

    async def kill(self, cmd_id: str) -> bool:
        try:
            await self._sandbox._connection.request("POST", f"{self._path()}/{cmd_id}/kill")
            return True
        except ConflictError as e:
            if "has exited" in e.message:
                return False
            raise
        except NotFoundError:
            return False

    async def send_stdin(self, cmd_id: str, data: str) -> None:
        await self._sandbox._connection.request("POST", f"{self._path()}/{cmd_id}/stdin", json_body={"data": data})

    async def close_stdin(self, cmd_id: str) -> None:
        await self._sandbox._connection.request("POST", f"{self._path()}/{cmd_id}/stdin", json_body={"close": True})


class AsyncFiles:
    """``sbx.files`` of an AsyncSandbox."""

    def __init__(self, sandbox: "AsyncSandbox") -> None:
        self._sandbox = sandbox

    def _path(self, suffix: str = "") -> str:
        return f"/v1/sandboxes/{self._sandbox.sandbox_id}/files{suffix}"

    async def write(self, path: str, data: Union[str, bytes, Iterable[bytes], AsyncIterable[bytes]]) -> EntryInfo:
        """Writes text (UTF-8), bytes, or an (async) iterable of byte chunks, streamed."""
        content = data.encode() if isinstance(data, str) else data
        info = await self._sandbox._connection.json("PUT", self._path(), params={"path": path}, content=content)
        return EntryInfo(info["name"], info["type"], int(info["size"]), info["path"])

    async def read(self, path: str, format: str = "text") -> Union[str, bytes]:
        response = await self._sandbox._connection.request("GET", self._path(), params={"path": path})
        return response.content if format == "bytes" else response.content.decode("utf-8", errors="replace")

    async def list(self, path: str) -> List[EntryInfo]:
        body = await self._sandbox._connection.json("GET", self._path("/list"), params={"path": path})
        base = path.rstrip("/")
        return [EntryInfo(e["name"], e["type"], int(e["size"]), f"{base}/{e['name']}") for e in body["entries"]]

    async def make_dir(self, path: str) -> bool:
        body = await self._sandbox._connection.json("POST", self._path("/mkdir"), params={"path": path})
        return bool(body["created"])

    async def remove(self, path: str) -> None:
        await self._sandbox._connection.request("DELETE", self._path(), params={"path": path})

    async def exists(self, path: str) -> bool:
        try:
            await self.list(path)
            return True
        except NotFoundError:
            return False
        except InvalidArgumentError:
            return True


class AsyncSandbox:
    """A sandbox served by ``safehouse serve``, for asyncio; ``async with`` kills it on exit."""

    def __init__(self, info: SandboxInfo, connection: AsyncConnection) -> None:
        self._info = info
        self._connection = connection
        self.commands = AsyncCommands(self)
        self.files = AsyncFiles(self)

    @property
    def sandbox_id(self) -> str:
        return self._info.sandbox_id

    @classmethod
    async def create(cls, policy: str = "default", rootfs: Optional[str] = None, *, timeout: int = 300,
                     envs: Optional[Dict[str, str]] = None, metadata: Optional[Dict[str, str]] = None,
                     url: Optional[str] = None, token: Optional[str] = None) -> "AsyncSandbox":
        connection = AsyncConnection(url, token)
        body: Dict[str, Any] = {"policy": policy, "timeout": timeout, "env": envs or {}, "metadata": metadata or {}}
        if rootfs is not None:
            body["rootfs"] = rootfs
        try:
            info = await connection.json("POST", "/v1/sandboxes", json_body=body)
        except BaseException:
            await connection.close()
            raise
        return cls(SandboxInfo.from_json(info), connection)

    @classmethod
    async def connect(cls, sandbox_id: str, *, url: Optional[str] = None, token: Optional[str] = None) -> "AsyncSandbox":
        connection = AsyncConnection(url, token)
        try:
            info = await connection.json("GET", f"/v1/sandboxes/{sandbox_id}")
        except BaseException:
            await connection.close()
            raise
        return cls(SandboxInfo.from_json(info), connection)

    @staticmethod
    async def list(metadata: Optional[Dict[str, str]] = None, *, url: Optional[str] = None,
                   token: Optional[str] = None) -> List[SandboxInfo]:
        connection = AsyncConnection(url, token)
        try:
            params = {f"metadata.{k}": v for k, v in (metadata or {}).items()}
            body = await connection.json("GET", "/v1/sandboxes", params=params)
        finally:
            await connection.close()
        return [SandboxInfo.from_json(d) for d in body["sandboxes"]]

    @staticmethod
    async def all_events(after: Optional[int] = None, *, url: Optional[str] = None,
                         token: Optional[str] = None) -> AsyncIterator[SandboxEvent]:
        connection = AsyncConnection(url, token)
        try:
            params = {"after": after} if after is not None else None
            async for _, _, data in connection.stream("GET", "/v1/events", params=params):
                yield SandboxEvent.from_json(data)
        finally:
            await connection.close()

    async def events(self, after: Optional[int] = None) -> AsyncIterator[SandboxEvent]:
        params = {"after": after} if after is not None else None
        async for _, _, data in self._connection.stream("GET", f"/v1/sandboxes/{self.sandbox_id}/events", params=params):
            yield SandboxEvent.from_json(data)

    async def get_info(self) -> SandboxInfo:
        self._info = SandboxInfo.from_json(await self._connection.json("GET", f"/v1/sandboxes/{self.sandbox_id}"))
        return self._info

    async def is_running(self) -> bool:
        try:
            return (await self.get_info()).state == "running"
        except NotFoundError:
            return False

    async def set_timeout(self, timeout: int) -> None:
        info = await self._connection.json("POST", f"/v1/sandboxes/{self.sandbox_id}/timeout", json_body={"timeout": timeout})
        self._info = SandboxInfo.from_json(info)

    async def pause(self) -> None:
        self._info = SandboxInfo.from_json(await self._connection.json("POST", f"/v1/sandboxes/{self.sandbox_id}/pause"))

    async def resume(self, timeout: Optional[int] = None) -> None:
        body = {"timeout": timeout} if timeout is not None else {}
        info = await self._connection.json("POST", f"/v1/sandboxes/{self.sandbox_id}/resume", json_body=body)
        self._info = SandboxInfo.from_json(info)

    async def kill(self) -> bool:
        try:
            await self._connection.request("DELETE", f"/v1/sandboxes/{self.sandbox_id}")
            return True
        except NotFoundError:
            return False

    async def close(self) -> None:
        await self._connection.close()

    async def __aenter__(self) -> "AsyncSandbox":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.kill()
        finally:
            await self.close()
