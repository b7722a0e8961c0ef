"""Sandboxes that live across commands: E2B's ``Sandbox`` names where the meaning is the same.

Each method sends one request of ``_api`` and returns its answer as ``_api`` reads it;
``AsyncSandbox`` is the same class with ``await``."""

from __future__ import annotations

import threading
from typing import Any, Dict, Iterable, Iterator, List, Literal, Optional, Union, overload

from . import _api, _decider
from ._command import CommandHandleState, OutputCollector, OutputHandler, run_result
from ._decider import EgressCallback
from ._models import (CommandResult, EgressRequest, EgressStats, EntryInfo, ImageInfo, NetworkChange, NetworkRule,
                      ProcessInfo, SandboxEvent, SandboxInfo, SnapshotInfo)
from .connection import Connection
from .errors import NotFoundError


class CommandHandle(CommandHandleState):
    """A command started with ``background=True`` (or found again with
    ``commands.connect``): it runs on whether or not anyone follows it."""

    def __init__(self, commands: "Commands", info: ProcessInfo, on_stdout: Optional[OutputHandler] = None,
                 on_stderr: Optional[OutputHandler] = None) -> None:
        super().__init__(info, on_stdout, on_stderr)
        self._commands = commands

    def wait(self, on_stdout: Optional[OutputHandler] = None, on_stderr: Optional[OutputHandler] = None,
             timeout: Optional[float] = None) -> CommandResult:
        """Follows the output (from where this handle left off) until the command exits."""
        collector = self._start_wait(on_stdout, on_stderr)
        if collector.result is None:
            sandbox = self._commands._sandbox
            for event in sandbox._connection.stream(
                    _api.command_events(sandbox.sandbox_id, self.id, collector.last_seq, timeout)):
                collector.feed(*event)
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
        sandbox_id, connection = self._sandbox.sandbox_id, self._sandbox._connection
        if background:
            info = connection.call(_api.start_command(sandbox_id, cmd, cwd, envs, timeout, stdin))
            return CommandHandle(self, info, on_stdout, on_stderr)
        collector = OutputCollector(on_stdout, on_stderr)
        for event in connection.stream(_api.run_command(sandbox_id, cmd, cwd, envs, timeout, stdin, kill_on_disconnect)):
            collector.feed(*event)
        return run_result(collector, timeout, raise_on_timeout)

    def list(self) -> List[ProcessInfo]:
        """The sandbox's running commands, oldest first."""
        return self._sandbox._connection.call(_api.list_commands(self._sandbox.sandbox_id))

    def connect(self, cmd_id: str) -> CommandHandle:
        """A handle on a command of the sandbox, running or finished lately (its
        ``wait`` replays the output the service still has); NotFoundError if none."""
        return CommandHandle(self, self._sandbox._connection.call(_api.get_command(self._sandbox.sandbox_id, cmd_id)))

    def kill(self, cmd_id: str) -> bool:
        """Kills the command and what it started; False when it had exited or is unknown."""
        return self._sandbox._connection.call(_api.kill_command(self._sandbox.sandbox_id, cmd_id))

    def send_stdin(self, cmd_id: str, data: str) -> None:
        """Writes ``data`` to a background command's stdin."""
        self._sandbox._connection.call(_api.send_stdin(self._sandbox.sandbox_id, cmd_id, data))

    def close_stdin(self, cmd_id: str) -> None:
        """Closes a background command's stdin: it reads end of file."""
        self._sandbox._connection.call(_api.close_stdin(self._sandbox.sandbox_id, cmd_id))


class Files:
    """``sbx.files``: the sandbox's files, resolved inside its root."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    def write(self, path: str, data: Union[str, bytes, Iterable[bytes]]) -> EntryInfo:
        """Writes ``data`` (text as UTF-8, bytes, or an iterable of byte chunks, streamed) to ``path``."""
        return self._sandbox._connection.call(_api.write_file(self._sandbox.sandbox_id, path, data))

    def read(self, path: str, format: str = "text") -> Union[str, bytes]:
        """The file's content: text (``format="text"``, the default) or bytes (``format="bytes"``)."""
        return self._sandbox._connection.call(_api.read_file(self._sandbox.sandbox_id, path, format))

    def list(self, path: str) -> List[EntryInfo]:
        """The entries of the directory ``path``."""
        return self._sandbox._connection.call(_api.list_dir(self._sandbox.sandbox_id, path))

    def make_dir(self, path: str) -> bool:
        """Makes the directory ``path`` and its parents; False when it was there already."""
        return self._sandbox._connection.call(_api.make_dir(self._sandbox.sandbox_id, path))

    def remove(self, path: str) -> None:
        """Removes a file, a symlink or a directory with everything in it."""
        self._sandbox._connection.call(_api.remove_path(self._sandbox.sandbox_id, path))

    def exists(self, path: str) -> bool:
        """Whether ``path`` names a regular file (read) or a directory (list)."""
        return self._sandbox._connection.call(_api.path_exists(self._sandbox.sandbox_id, path))


class Network:
    """``sbx.network``: the sandbox's live allowlist (as ``safehouse agent allow|deny|rules``),
    its egress figures, and the answers to its egress questions. A sandbox whose policy
    has no egress answers ConflictError."""

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sandbox = sandbox

    def allow(self, *rules: str) -> NetworkChange:
        """Allows ``rules`` (host, ``*.domain``, ``host:port``, CIDR) from the next
        connection on; a connection already made keeps its verdict."""
        return self._sandbox._connection.call(_api.network_change(self._sandbox.sandbox_id, "allow", rules))

    def deny(self, *rules: str) -> NetworkChange:
        """Removes the allow rules equal to ``rules`` and refuses the others' hosts
        from the next connection on."""
        return self._sandbox._connection.call(_api.network_change(self._sandbox.sandbox_id, "deny", rules))

    def rules(self) -> List[NetworkRule]:
        """The allowlist as it stands, with where each rule came from."""
        return self._sandbox._connection.call(_api.network_rules(self._sandbox.sandbox_id))

    def stats(self) -> EgressStats:
        return self._sandbox._connection.call(_api.network_stats(self._sandbox.sandbox_id))

    def pending(self) -> List[EgressRequest]:
        """The egress questions of a client-decided sandbox waiting for an answer."""
        return self._sandbox._connection.call(_api.pending_decisions(self._sandbox.sandbox_id))

    def decide(self, request_id: str, allow: bool, reason: str = "") -> bool:
        """Answers an egress question; False when it had ended (deadline passed,
        answered by another client)."""
        return self._sandbox._connection.call(_api.answer_decision(self._sandbox.sandbox_id, request_id, allow, reason))


class EgressFollower:
    """Answers a sandbox's egress questions with a callback, on a thread of its own
    that follows the sandbox's events over its own connection until the sandbox is
    gone or ``stop``."""

    def __init__(self, sandbox_id: str, callback: EgressCallback, url: Optional[str], token: Optional[str]) -> None:
        self._sandbox_id = sandbox_id
        self._callback = callback
        self._connection = Connection(url, token, request_timeout=30)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"safehouse-egress-{sandbox_id}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for event in self._connection.stream(_api.sandbox_events(self._sandbox_id, None)):
                if self._stopped.is_set():
                    return
                request = _decider.question(event)
                if request is None:
                    continue
                try:
                    allow, reason = _decider.verdict(self._callback(request))
                except Exception as error:  # the callback's failure is a refusal, said so
                    allow, reason = _decider.failure(error)
                self._connection.call(_api.answer_decision(self._sandbox_id, request.request_id, allow, reason))
        except Exception:
            # The stream ends with the sandbox, or breaks when stopped: either way, done.
            pass

    def stop(self) -> None:
        self._stopped.set()
        self._connection.close()
        if threading.current_thread() is not self._thread:
            self._thread.join(5)


class Sandbox:
    """A sandbox served by ``safehouse serve``; ``with Sandbox.create(...) as sbx:`` kills it on exit."""

    def __init__(self, info: SandboxInfo, connection: Connection) -> None:
        self._info = info
        self._connection = connection
        self.commands = Commands(self)
        self.files = Files(self)
        self.network = Network(self)
        self._follower: Optional[EgressFollower] = None

    @property
    def sandbox_id(self) -> str:
        return self._info.sandbox_id

    @classmethod
    def create(cls, policy: Union[str, Dict[str, Any]] = "default", rootfs: Optional[str] = None, *, image: Optional[str] = None,
               template: Optional[str] = None, snapshot: Optional[str] = None, timeout: Optional[int] = None,
               envs: Optional[Dict[str, str]] = None, metadata: Optional[Dict[str, str]] = None,
               url: Optional[str] = None, token: Optional[str] = None,
               on_egress_request: Optional[EgressCallback] = None,
               egress_request_timeout: Optional[float] = None) -> "Sandbox":
        """Creates and starts a sandbox from ``policy`` over ``rootfs`` or over
        ``image`` (a reference as ``agent run --image`` takes it, or a name ``commit``
        made; ``template`` is E2B's word for it); it is deleted ``timeout`` seconds from
        now unless ``set_timeout`` moves the deadline. ``policy`` is a name (a profile or a
        policy in the service's policy directory) or a policy document as a dict, the
        fields of a policy file (laid over the default profile, or over what its
        ``extends`` names); the sandbox's policy then reads "inline". ``timeout``
        defaults to 300 seconds. With ``snapshot`` (a name ``snapshot`` saved) the
        sandbox is restored from it instead: its memory, files, policy, root and env
        as they were, ``timeout`` defaulting to the time it had left.

        ``on_egress_request``: this client decides the destinations no rule of the
        policy's network.allow covers (a human-in-the-loop prompt). The callback gets an
        EgressRequest (host, port; port 0 is a name lookup) and returns True, False, or
        (allow, reason), on a thread that follows the sandbox's events; no answer within
        ``egress_request_timeout`` seconds (the service's default 30, at most 300) is a
        refusal, and so is a callback that raises. Answers are remembered by the
        sandbox for its life. The policy must have egress."""
        sandbox = cls._open(_api.create_or_restore(policy, rootfs, image, template, snapshot, timeout, envs, metadata,
                                                   on_egress_request is not None, egress_request_timeout), url, token)
        if on_egress_request is not None:
            sandbox._follow_egress(on_egress_request, url, token)
        return sandbox

    @classmethod
    def connect(cls, sandbox_id: str, *, url: Optional[str] = None, token: Optional[str] = None,
                on_egress_request: Optional[EgressCallback] = None) -> "Sandbox":
        """A handle on an existing sandbox; NotFoundError when there is none. With
        ``on_egress_request``, this client answers the egress questions of a sandbox
        created with a client decider (see ``create``)."""
        sandbox = cls._open(_api.get_sandbox(sandbox_id), url, token)
        if on_egress_request is not None:
            sandbox._follow_egress(on_egress_request, url, token)
        return sandbox

    def _follow_egress(self, callback: EgressCallback, url: Optional[str], token: Optional[str]) -> None:
        try:
            self._follower = EgressFollower(self.sandbox_id, callback, url, token)
        except Exception:
            self.close()
            raise

    @classmethod
    def _open(cls, call: _api.Call[SandboxInfo], url: Optional[str], token: Optional[str]) -> "Sandbox":
        """A sandbox on a new connection, the one ``call`` describes; the connection is
        closed when the call fails."""
        connection = Connection(url, token)
        try:
            info = connection.call(call)
        except Exception:
            connection.close()
            raise
        return cls(info, connection)

    @staticmethod
    def list(metadata: Optional[Dict[str, str]] = None, *, url: Optional[str] = None,
             token: Optional[str] = None) -> List[SandboxInfo]:
        """Every sandbox of the service, or those whose metadata has every KEY=VALUE of ``metadata``."""
        with Connection(url, token) as connection:
            return connection.call(_api.list_sandboxes(metadata))

    def get_info(self) -> SandboxInfo:
        """The sandbox as the service sees it now."""
        self._info = self._connection.call(_api.get_sandbox(self.sandbox_id))
        return self._info

    def is_running(self) -> bool:
        try:
            return self.get_info().state == "running"
        except NotFoundError:
            return False

    def commit(self, name: str) -> ImageInfo:
        """Makes the sandbox's root as it is now (its image and what was changed in it)
        the image ``name``, usable at once by ``create(image=name)``. The sandbox is
        frozen for the copy and runs on afterwards; ``changes`` lists what went in."""
        return self._connection.call(_api.commit(self.sandbox_id, name))

    def snapshot(self, name: str) -> SnapshotInfo:
        """Saves the sandbox to disk as ``name`` (its memory, the files it wrote, its
        spec and the time it had left); the sandbox is then gone. ``create(snapshot=
        name)`` makes new sandboxes from it, as many as asked, each running on from
        where this one was. ConflictError, the sandbox running on, where it cannot be
        done (an egress allowlist on gvisor; natively where CRIU cannot run)."""
        return self._connection.call(_api.snapshot(self.sandbox_id, name))

    @staticmethod
    def list_snapshots(*, url: Optional[str] = None, token: Optional[str] = None) -> List[SnapshotInfo]:
        """The service's snapshots, by name."""
        with Connection(url, token) as connection:
            return connection.call(_api.list_snapshots())

    @staticmethod
    def delete_snapshot(name: str, *, url: Optional[str] = None, token: Optional[str] = None) -> None:
        """Removes the snapshot ``name`` (sandboxes restored from it run on); NotFoundError when there is none."""
        with Connection(url, token) as connection:
            connection.call(_api.delete_snapshot(name))

    @staticmethod
    def list_images(*, url: Optional[str] = None, token: Optional[str] = None) -> List[ImageInfo]:
        """The images in the service's store, by name."""
        with Connection(url, token) as connection:
            return connection.call(_api.list_images())

    @staticmethod
    def remove_image(name: str, *, url: Optional[str] = None, token: Optional[str] = None) -> None:
        """Removes the image ``name`` and the layers no other image uses (a running
        sandbox's layers stay until it is gone); NotFoundError when there is none."""
        with Connection(url, token) as connection:
            connection.call(_api.remove_image(name))

    def pause(self) -> None:
        """Freezes every process of the sandbox. Its deadline keeps running; commands
        get ConflictError until ``resume``."""
        self._info = self._connection.call(_api.pause(self.sandbox_id))

    def resume(self, timeout: Optional[int] = None) -> None:
        """Thaws the sandbox; with ``timeout``, its deadline moves to that many seconds from now."""
        self._info = self._connection.call(_api.resume(self.sandbox_id, timeout))

    def events(self, after: Optional[int] = None) -> Iterator[SandboxEvent]:
        """The sandbox's events (those the service kept, from ``created`` on, then each as
        it comes) until the sandbox is gone; ``after`` skips those up to that ``seq``."""
        yield from self._connection.stream(_api.sandbox_events(self.sandbox_id, after))

    @staticmethod
    def all_events(after: Optional[int] = None, *, url: Optional[str] = None,
                   token: Optional[str] = None) -> Iterator[SandboxEvent]:
        """Every sandbox's events from now on (or after ``seq`` ``after``, of those kept);
        the stream lasts until the caller stops reading."""
        with Connection(url, token) as connection:
            yield from connection.stream(_api.all_events(after))

    def set_timeout(self, timeout: int) -> None:
        """Moves the deadline to ``timeout`` seconds from now."""
        self._info = self._connection.call(_api.set_timeout(self.sandbox_id, timeout))

    def kill(self) -> bool:
        """Kills and removes the sandbox; False when it was gone already."""
        killed = self._connection.call(_api.kill_sandbox(self.sandbox_id))
        self._stop_following()
        return killed

    def close(self) -> None:
        """Closes the connection (the sandbox stays); egress questions are no longer answered here."""
        self._stop_following()
        self._connection.close()

    def _stop_following(self) -> None:
        if self._follower is not None:
            self._follower.stop()
            self._follower = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.kill()
        finally:
            self.close()
