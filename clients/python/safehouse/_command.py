"""A command's events folded into its result, and what a background command's handle
knows: shared by the sync and the async clients, which only differ in how they read
the events."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ._models import CommandResult, ProcessInfo
from .errors import SafehouseError, TimeoutError, from_response

OutputHandler = Callable[[str], None]


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


def run_result(collector: OutputCollector, timeout: Optional[float], raise_on_timeout: bool) -> CommandResult:
    """What ``commands.run`` returns once the stream has ended: the result, or
    TimeoutError when its timeout stopped it and ``raise_on_timeout`` asks for that."""
    result = collector.finished()
    if result.timed_out and raise_on_timeout:
        raise TimeoutError(f"command timed out after {timeout}s", "timeout", 0)
    return result


class CommandHandleState:
    """What a background command's handle knows: the command and the output read so far.
    ``CommandHandle`` and ``AsyncCommandHandle`` add the calls, blocking or awaited."""

    def __init__(self, info: ProcessInfo, on_stdout: Optional[OutputHandler] = None,
                 on_stderr: Optional[OutputHandler] = None) -> None:
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

    def _start_wait(self, on_stdout: Optional[OutputHandler], on_stderr: Optional[OutputHandler]) -> OutputCollector:
        """The collector for a ``wait``, with its handlers: those given, else those of ``run``."""
        collector = self._collector
        collector.on_stdout = on_stdout or collector.on_stdout
        collector.on_stderr = on_stderr or collector.on_stderr
        return collector
