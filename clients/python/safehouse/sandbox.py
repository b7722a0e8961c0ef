"""Sandboxes that live across commands: E2B's ``Sandbox`` names where the meaning is the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from .connection import Connection
from .errors import TimeoutError

OutputHandler = Callable[[str], None]


@dataclass
class CommandResult:
    """A finished command: its output and exit code (124 when its timeout stopped it)."""

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool = False


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


class Commands:
    """``sbx.commands``: run commands in the sandbox."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    def run(self, cmd: Union[str, List[str]], *, cwd: Optional[str] = None, envs: Optional[Dict[str, str]] = None,
            timeout: Optional[float] = 60, stdin: Optional[str] = None,
            on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None,
            raise_on_timeout: bool = False) -> CommandResult:
        """Runs ``cmd`` (a shell string, run by /bin/sh -c, or an argv list) and waits.

        ``on_stdout`` and ``on_stderr`` get the output as it comes (the command's output
        is streamed as Server-Sent Events). A command stopped by its ``timeout`` returns
        exit code 124 with ``timed_out`` set, or raises TimeoutError with ``raise_on_timeout``.
        """
        body: Dict[str, Any] = {"cmd": cmd}
        if cwd is not None:
            body["cwd"] = cwd
        if envs:
            body["env"] = envs
        if timeout is not None:
            body["timeout"] = timeout
        if stdin is not None:
            body["stdin"] = stdin
        path = f"/v1/sandboxes/{self._sandbox.sandbox_id}/commands"
        # The HTTP read timeout is the command's and a margin for the stop.
        http_timeout = (timeout + 30) if timeout else None
        stdout: List[str] = []
        stderr: List[str] = []
        result: Optional[CommandResult] = None
        for event, data in self._sandbox._connection.stream_events(path, body, http_timeout):
            if event == "stdout":
                stdout.append(data["data"])
                if on_stdout:
                    on_stdout(data["data"])
            elif event == "stderr":
                stderr.append(data["data"])
                if on_stderr:
                    on_stderr(data["data"])
            elif event == "exit":
                result = CommandResult("".join(stdout), "".join(stderr), int(data["exitCode"]), bool(data.get("timedOut")))
            elif event == "error":
                from .errors import from_response
                raise from_response(500, data)
        if result is None:
            from .errors import SafehouseError
            raise SafehouseError("the command's stream ended without an exit event", "stream_ended", 0)
        if result.timed_out and raise_on_timeout:
            raise TimeoutError(f"command timed out after {timeout}s", "timeout", 0)
        return result


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
        from .errors import NotFoundError
        try:
            return self.get_info().state == "running"
        except NotFoundError:
            return False

    def set_timeout(self, timeout: int) -> None:
        """Moves the deadline to ``timeout`` seconds from now."""
        info = self._connection.json("POST", f"/v1/sandboxes/{self.sandbox_id}/timeout", json_body={"timeout": timeout})
        self._info = SandboxInfo.from_json(info)

    def kill(self) -> bool:
        """Kills and removes the sandbox; False when it was gone already."""
        from .errors import NotFoundError
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
