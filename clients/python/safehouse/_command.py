"""What the sync and the async clients share about commands: the request body, the
answer's events folded into a result, a command's and an event's description."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

from .errors import SafehouseError, from_response

OutputHandler = Callable[[str], None]


@dataclass
class CommandResult:
    """A finished command: its output and exit code (124 when its timeout stopped it;
    ``killed`` when a kill through the API stopped it)."""

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool = False
    killed: bool = False


@dataclass
class ProcessInfo:
    """A command the service runs in a sandbox (``commands.list()``)."""

    id: str
    pid: Optional[int]
    cmd: List[str]
    cwd: Optional[str]
    background: bool
    started_at: str
    state: str
    exit_code: Optional[int] = None

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "ProcessInfo":
        return cls(d["id"], d.get("pid"), list(d["cmd"]), d.get("cwd"), bool(d["background"]), d["startedAt"],
                   d["state"], d.get("exitCode"))


@dataclass
class SandboxEvent:
    """One event of a sandbox: ``type`` is created, paused, resumed, timeout_set, killed,
    expired, limit, egress, files, exit or stopped; ``seq`` orders all events."""

    seq: int
    sandbox_id: str
    type: str
    time: str
    details: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "SandboxEvent":
        return cls(int(d["seq"]), d["sandboxId"], d["type"], d["time"], d.get("details") or {})


def command_body(cmd: Union[str, List[str]], cwd: Optional[str], envs: Optional[Dict[str, str]],
                 timeout: Optional[float], stdin: Optional[str], background: bool,
                 kill_on_disconnect: bool) -> Dict[str, Any]:
    body: Dict[str, Any] = {"cmd": cmd}
    if cwd is not None:
        body["cwd"] = cwd
    if envs:
        body["env"] = envs
    if timeout:
        body["timeout"] = timeout
    if stdin is not None:
        body["stdin"] = stdin
    if background:
        body["background"] = True
    if kill_on_disconnect:
        body["killOnDisconnect"] = True
    return body


class OutputCollector:
    """Folds a command's events into its output and result, calling the handlers."""

    def __init__(self, on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None) -> None:
        self.on_stdout = on_stdout
        self.on_stderr = on_stderr
        self.stdout: List[str] = []
        self.stderr: List[str] = []
        self.command_id: Optional[str] = None
        self.last_seq = 0
        self.result: Optional[CommandResult] = None

    def feed(self, event: str, seq: Optional[int], data: Dict[str, Any]) -> None:
        if seq is not None:
            self.last_seq = seq
        if event == "start":
            self.command_id = data.get("id")
        elif event == "stdout":
            self.stdout.append(data["data"])
            if self.on_stdout:
                self.on_stdout(data["data"])
        elif event == "stderr":
            self.stderr.append(data["data"])
            if self.on_stderr:
                self.on_stderr(data["data"])
        elif event == "exit":
            self.result = CommandResult("".join(self.stdout), "".join(self.stderr), int(data["exitCode"]),
                                        bool(data.get("timedOut")), bool(data.get("killed")))
        elif event == "error":
            raise from_response(500, data)

    def finished(self) -> CommandResult:
        if self.result is None:
            raise SafehouseError("the command's stream ended without an exit event", "stream_ended", 0)
        return self.result
