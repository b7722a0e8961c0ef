"""Sandboxes that live across commands: E2B's ``Sandbox`` names where the meaning is the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Literal, Optional, Union, overload

from ._command import (CommandResult, OutputCollector, OutputHandler, ProcessInfo, SandboxEvent,
                       command_body)
from .connection import Connection
from .errors import ConflictError, NotFoundError, TimeoutError

@dataclass
class EntryInfo:
    """One directory entry: ``type`` is file, dir, symlink or other."""

    name: str
    type: str
    size: int
    path: str = ""


@dataclass
class SandboxInfo:
    """A sandbox as the service describes it."""

    sandbox_id: str
    policy: str
    rootfs: str
    state: str
    started_at: str
    end_at: str
    metadata: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "SandboxInfo":
        return cls(d["id"], d["policy"], d["rootfs"], d["state"], d["createdAt"], d["expiresAt"], d.get("metadata") or {})


class CommandHandle:
    """A command started with ``background=True`` (or found again with
    ``commands.connect``): it runs on whether or not anyone follows it."""

    def __init__(self, commands: "Commands", info: ProcessInfo, on_stdout: Optional[OutputHandler] = None,
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
        """The output read so far (by ``wait``)."""
        return "".join(self._collector.stdout)

    @property
    def stderr(self) -> str:
        return "".join(self._collector.stderr)

    @property
    def exit_code(self) -> Optional[int]:
        return self._collector.result.exit_code if self._collector.result else None

    def wait(self, on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None,
             timeout: Optional[float] = None) -> CommandResult:
        """Follows the output (from where this handle left off) until the command exits."""
        collector = self._collector
        collector.on_stdout = on_stdout or collector.on_stdout
        collector.on_stderr = on_stderr or collector.on_stderr
        if collector.result is None:
            for event, seq, data in self._commands._sandbox._connection.stream(
                    "GET", f"{self._commands._path()}/{self.id}/events", params={"after": collector.last_seq},
                    timeout=timeout):
                collector.feed(event, seq, data)
        return collector.finished()

    def kill(self) -> bool:
        return self._commands.kill(self.id)

    def send_stdin(self, data: str) -> None:
        self._commands.send_stdin(self.id, data)

    def close_stdin(self) -> None:
        self._commands.close_stdin(self.id)


class Commands:
    """``sbx.commands``: run commands in the sandbox."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    def _path(self) -> str:
        return f"/v1/sandboxes/{self._sandbox.sandbox_id}/commands"

    @overload
    def run(self, cmd: Union[str, List[str]], *, background: Literal[False] = ..., cwd: Optional[str] = ...,
            envs: Optional[Dict[str, str]] = ..., timeout: Optional[float] = ..., stdin: Optional[str] = ...,
            on_stdout: Optional[OutputHandler] = ..., on_stderr: Optional[OutputHandler] = ...,
            raise_on_timeout: bool = ..., kill_on_disconnect: bool = ...) -> CommandResult: ...

    @overload
    def run(self, cmd: Union[str, List[str]], *, background: Literal[True], cwd: Optional[str] = ...,
            envs: Optional[Dict[str, str]] = ..., timeout: Optional[float] = ..., stdin: Optional[str] = ...,
            on_stdout: Optional[OutputHandler] = ..., on_stderr: Optional[OutputHandler] = ...,
            raise_on_timeout: bool = ..., kill_on_disconnect: bool = ...) -> "CommandHandle": ...

    @overload
    def run(self, cmd: Union[str, List[str]], *, background: bool, cwd: Optional[str] = ...,
            envs: Optional[Dict[str, str]] = ..., timeout: Optional[float] = ..., stdin: Optional[str] = ...,
            on_stdout: Optional[OutputHandler] = ..., on_stderr: Optional[OutputHandler] = ...,
            raise_on_timeout: bool = ..., kill_on_disconnect: bool = ...) -> Union[CommandResult, "CommandHandle"]: ...

    def run(self, cmd: Union[str, List[str]], *, background: bool = False, cwd: Optional[str] = None,
            envs: Optional[Dict[str, str]] = None, timeout: Optional[float] = None, stdin: Optional[str] = None,
            on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None,
            raise_on_timeout: bool = False, kill_on_disconnect: bool = False) -> Any:
        """Runs ``cmd`` (a shell string, run by /bin/sh -c, or an argv list) and waits.

        ``on_stdout`` and ``on_stderr`` get the output as it comes (the command's output
        is streamed as Server-Sent Events). A command stopped by its ``timeout`` returns
        exit code 124 with ``timed_out`` set, or raises TimeoutError with ``raise_on_timeout``;
        the default is the service's (60 s). If this client goes away mid-run the command
        runs on (``commands.list()`` finds it), unless ``kill_on_disconnect``.

        With ``background=True`` it returns a CommandHandle at once; its stdin stays open
        for ``send_stdin``, its ``timeout`` defaults to none (it lives as long as the
        sandbox), and ``on_stdout``/``on_stderr`` get the output during ``handle.wait()``.
        """
        if background:
            body = command_body(cmd, cwd, envs, timeout, stdin, True, False)
            info = self._sandbox._connection.json("POST", self._path(), json_body=body)
            return CommandHandle(self, ProcessInfo.from_json(info), on_stdout, on_stderr)
        body = command_body(cmd, cwd, envs, timeout, stdin, False, kill_on_disconnect)
        # The HTTP read timeout is the command's and a margin for the stop.
        http_timeout = (timeout or 60) + 30
        collector = OutputCollector(on_stdout, on_stderr)
        for event, seq, data in self._sandbox._connection.stream("POST", self._path(), body=body, timeout=http_timeout):
            collector.feed(event, seq, data)
        result = collector.finished()
        if result.timed_out and raise_on_timeout:
            raise TimeoutError(f"command timed out after {timeout}s", "timeout", 0)
        return result

    def list(self) -> List[ProcessInfo]:
        """The sandbox's running commands, oldest first."""
        body = self._sandbox._connection.json("GET", self._path())
        return [ProcessInfo.from_json(d) for d in body["commands"]]

    def connect(self, cmd_id: str) -> CommandHandle:
        """A handle on a command of the sandbox, running or finished lately (its
        ``wait`` replays the output the service still has); NotFoundError if none."""
        info = self._sandbox._connection.json("GET", f"{self._path()}/{cmd_id}")
        return CommandHandle(self, ProcessInfo.from_json(info))

    def kill(self, cmd_id: str) -> bool:
        """Kills the command and what it started; False when it had exited or is unknown."""
        try:
            self._sandbox._connection.request("POST", f"{self._path()}/{cmd_id}/kill")
            return True
        except ConflictError as e:
            if "has exited" in e.message:
                return False
            raise
        except NotFoundError:
            return False

    def send_stdin(self, cmd_id: str, data: str) -> None:
        """Writes ``data`` to a background command's stdin."""
        self._sandbox._connection.request("POST", f"{self._path()}/{cmd_id}/stdin", json_body={"data": data})

    def close_stdin(self, cmd_id: str) -> None:
        """Closes a background command's stdin: it reads end of file."""
        self._sandbox._connection.request("POST", f"{self._path()}/{cmd_id}/stdin", json_body={"close": True})


class Files:
    """``sbx.files``: the sandbox's files, resolved inside its root."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    def _path(self, suffix: str = "") -> str:
        return f"/v1/sandboxes/{self._sandbox.sandbox_id}/files{suffix}"

    def write(self, path: str, data: Union[str, bytes, Iterable[bytes]]) -> EntryInfo:
        """Writes ``data`` (text as UTF-8, bytes, or an iterable of byte chunks, streamed) to ``path``."""
        content = data.encode() if isinstance(data, str) else data
        info = self._sandbox._connection.json("PUT", self._path(), params={"path": path}, content=content)
        return EntryInfo(info["name"], info["type"], int(info["size"]), info["path"])

    def read(self, path: str, format: str = "text") -> Union[str, bytes]:
        """The file's content: text (``format="text"``, the default) or bytes (``format="bytes"``)."""
        response = self._sandbox._connection.request("GET", self._path(), params={"path": path})
        return response.content if format == "bytes" else response.content.decode("utf-8", errors="replace")

    def list(self, path: str) -> List[EntryInfo]:
        """The entries of the directory ``path``."""
        body = self._sandbox._connection.json("GET", self._path("/list"), params={"path": path})
        base = path.rstrip("/")
        return [EntryInfo(e["name"], e["type"], int(e["size"]), f"{base}/{e['name']}") for e in body["entries"]]

    def make_dir(self, path: str) -> bool:
        """Makes the directory ``path`` and its parents; False when it was there already."""
        body = self._sandbox._connection.json("POST", self._path("/mkdir"), params={"path": path})
        return bool(body["created"])

    def remove(self, path: str) -> None:
        """Removes a file, a symlink or a directory with everything in it."""
        self._sandbox._connection.request("DELETE", self._path(), params={"path": path})

    def exists(self, path: str) -> bool:
        """Whether ``path`` names a regular file (read) or a directory (list)."""
        from .errors import InvalidArgumentError, NotFoundError
        try:
            self.list(path)
            return True
        except NotFoundError:
            return False
        except InvalidArgumentError:
            return True


class Sandbox:
    """A sandbox served by ``safehouse serve``; ``with Sandbox.create(...) as sbx:`` kills it on exit."""

    def __init__(self, info: SandboxInfo, connection: Connection) -> None:
        self._info = info
        self._connection = connection
        self.commands = Commands(self)
        self.files = Files(self)

    @property
    def sandbox_id(self) -> str:
        return self._info.sandbox_id

    @classmethod
    def create(cls, policy: str = "default", rootfs: Optional[str] = None, *, timeout: int = 300,
               envs: Optional[Dict[str, str]] = None, metadata: Optional[Dict[str, str]] = None,
               url: Optional[str] = None, token: Optional[str] = None) -> "Sandbox":
        """Creates and starts a sandbox from ``policy`` over ``rootfs``; it is deleted
        ``timeout`` seconds from now unless ``set_timeout`` moves the deadline."""
        connection = Connection(url, token)
        body: Dict[str, Any] = {"policy": policy, "timeout": timeout, "env": envs or {}, "metadata": metadata or {}}
        if rootfs is not None:
            body["rootfs"] = rootfs
        try:
            info = connection.json("POST", "/v1/sandboxes", json_body=body)
        except Exception:
            connection.close()
            raise
        return cls(SandboxInfo.from_json(info), connection)

    @classmethod
    def connect(cls, sandbox_id: str, *, url: Optional[str] = None, token: Optional[str] = None) -> "Sandbox":
        """A handle on an existing sandbox; NotFoundError when there is none."""
        connection = Connection(url, token)
        try:
            info = connection.json("GET", f"/v1/sandboxes/{sandbox_id}")
        except Exception:
            connection.close()
            raise
        return cls(SandboxInfo.from_json(info), connection)

    @staticmethod
    def list(metadata: Optional[Dict[str, str]] = None, *, url: Optional[str] = None,
             token: Optional[str] = None) -> List[SandboxInfo]:
        """Every sandbox of the service, or those whose metadata has every KEY=VALUE of ``metadata``."""
        connection = Connection(url, token)
        try:
            params = {f"metadata.{k}": v for k, v in (metadata or {}).items()}
            body = connection.json("GET", "/v1/sandboxes", params=params)
        finally:
            connection.close()
        return [SandboxInfo.from_json(d) for d in body["sandboxes"]]

    def get_info(self) -> SandboxInfo:
        """The sandbox as the service sees it now."""
        self._info = SandboxInfo.from_json(self._connection.json("GET", f"/v1/sandboxes/{self.sandbox_id}"))
        return self._info

    def is_running(self) -> bool:
        try:
            return self.get_info().state == "running"
        except NotFoundError:
            return False

    def pause(self) -> None:
        """Freezes every process of the sandbox. Its deadline keeps running; commands
        get ConflictError until ``resume``."""
        self._info = SandboxInfo.from_json(self._connection.json("POST", f"/v1/sandboxes/{self.sandbox_id}/pause"))

    def resume(self, timeout: Optional[int] = None) -> None:
        """Thaws the sandbox; with ``timeout``, its deadline moves to that many seconds from now."""
        body = {"timeout": timeout} if timeout is not None else {}
        self._info = SandboxInfo.from_json(self._connection.json("POST", f"/v1/sandboxes/{self.sandbox_id}/resume",
                                                                 json_body=body))

    def events(self, after: Optional[int] = None) -> Iterator[SandboxEvent]:
        """The sandbox's events (those the service kept, from ``created`` on, then each as
        it comes) until the sandbox is gone; ``after`` skips those up to that ``seq``."""
        params = {"after": after} if after is not None else None
        for _, _, data in self._connection.stream("GET", f"/v1/sandboxes/{self.sandbox_id}/events", params=params):
            yield SandboxEvent.from_json(data)

    @staticmethod
    def all_events(after: Optional[int] = None, *, url: Optional[str] = None,
                   token: Optional[str] = None) -> Iterator[SandboxEvent]:
        """Every sandbox's events from now on (or after ``seq`` ``after``, of those kept);
        the stream lasts until the caller stops reading."""
        connection = Connection(url, token)
        try:
            params = {"after": after} if after is not None else None
            for _, _, data in connection.stream("GET", "/v1/events", params=params):
                yield SandboxEvent.from_json(data)
        finally:
            connection.close()

    def set_timeout(self, timeout: int) -> None:
        """Moves the deadline to ``timeout`` seconds from now."""
        info = self._connection.json("POST", f"/v1/sandboxes/{self.sandbox_id}/timeout", json_body={"timeout": timeout})
        self._info = SandboxInfo.from_json(info)

    def kill(self) -> bool:
        """Kills and removes the sandbox; False when it was gone already."""
        try:
            self._connection.request("DELETE", f"/v1/sandboxes/{self.sandbox_id}")
            return True
        except NotFoundError:
            return False

    def close(self) -> None:
        """Closes the connection (the sandbox stays)."""
        self._connection.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.kill()
        finally:
            self.close()
