"""Every request of the API, described once for both clients.

A ``Call`` is a request (method, path, query, body) with the function that reads its
answer; a ``Stream`` is a request answered with Server-Sent Events, with the function
that reads each event. Nothing here does I/O: ``Connection`` sends them with
httpx.Client and ``AsyncConnection`` with httpx.AsyncClient, so ``Sandbox`` and
``AsyncSandbox`` differ only in whether they await.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import (Any, AsyncIterable, Callable, Dict, Generic, Iterable, List, Optional, Tuple, TypeVar,
                    Union)

from ._models import (EgressRequest, EgressStats, EntryInfo, ImageInfo, NetworkChange, NetworkRule, ProcessInfo,
                      SandboxEvent, SandboxInfo, SnapshotInfo)
from .errors import ConflictError, InvalidArgumentError, NotFoundError, SafehouseError, from_response

T = TypeVar("T")

#: One Server-Sent Event: its ``event`` name, its ``id`` (None without one) and its JSON data.
ServerSentEvent = Tuple[str, Optional[int], Dict[str, Any]]

#: What ``files.write`` sends: bytes, or byte chunks streamed as they come.
Content = Union[bytes, Iterable[bytes], AsyncIterable[bytes]]

#: A command's HTTP read timeout when it has none of its own: the service's 60 s default.
DEFAULT_COMMAND_TIMEOUT = 60
#: Added to a command's timeout for the HTTP read: the service's time to stop it and answer.
COMMAND_STOP_MARGIN = 30


def error_from(status: int, content: bytes) -> SafehouseError:
    """The error for an API error answer's status and body."""
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    return from_response(status, body if isinstance(body, dict) else None)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how its answer becomes a value."""

    method: str
    path: str
    parse: Callable[[bytes], T]
    params: Optional[Dict[str, Any]] = None
    #: The JSON body; None sends none.
    body: Any = None
    #: The raw body (``files.write``); None sends none.
    content: Optional[Content] = None
    #: Turns an error answer that means something here into a value (a kill of a
    #: sandbox that is gone is False); it raises the error again otherwise.
    recover: Optional[Callable[[SafehouseError], T]] = None

    def answer(self, status: int, content: bytes) -> T:
        """The value of the answer ``status`` with body ``content``, or its error raised."""
        if status >= 400:
            error = error_from(status, content)
            if self.recover is None:
                raise error
            return self.recover(error)
        return self.parse(content)


@dataclass(frozen=True)
class Stream(Generic[T]):
    """A request answered with Server-Sent Events, each read by ``read``; ``timeout``
    None waits for each event as long as it takes."""

    method: str
    path: str
    read: Callable[[ServerSentEvent], T]
    params: Optional[Dict[str, Any]] = None
    body: Any = None
    timeout: Optional[float] = None


def _json(read: Callable[[Any], T]) -> Callable[[bytes], T]:
    """A parser of a JSON answer (None for an empty one) through ``read``."""
    return lambda content: read(json.loads(content) if content else None)


def _nothing(content: bytes) -> None:
    return None


def _true(content: bytes) -> bool:
    return True


def _false_when_gone(error: SafehouseError) -> bool:
    if isinstance(error, NotFoundError):
        return False
    raise error


def _event(event: ServerSentEvent) -> ServerSentEvent:
    return event


def _sandbox_event(event: ServerSentEvent) -> SandboxEvent:
    return SandboxEvent.from_json(event[2])


def _after(after: Optional[int]) -> Optional[Dict[str, Any]]:
    return {"after": after} if after is not None else None


def _sandbox(sandbox_id: str, suffix: str = "") -> str:
    return f"/v1/sandboxes/{sandbox_id}{suffix}"


# Sandboxes.

def create_sandbox(policy: Union[str, Dict[str, Any]], rootfs: Optional[str], image: Optional[str],
                   template: Optional[str], timeout: int, envs: Optional[Dict[str, str]],
                   metadata: Optional[Dict[str, str]], client_decider: bool = False,
                   decider_timeout: Optional[float] = None) -> Call[SandboxInfo]:
    """The create request; ``template`` is E2B's name for an image. ``client_decider``:
    the sandbox's egress questions come to its clients (``"decider": "client"``)."""
    if image is not None and template is not None:
        raise ValueError("give image or template (the same thing), not both")
    image = image if image is not None else template
    body: Dict[str, Any] = {"policy": policy, "timeout": timeout, "env": envs or {}, "metadata": metadata or {}}
    if rootfs is not None:
        body["rootfs"] = rootfs
    if image is not None:
        body["image"] = image
    if client_decider:
        body["decider"] = "client"
        if decider_timeout is not None:
            body["deciderTimeout"] = decider_timeout
    elif decider_timeout is not None:
        raise ValueError("decider_timeout goes with on_egress_request")
    return Call("POST", "/v1/sandboxes", _json(SandboxInfo.from_json), body=body)


def create_or_restore(policy: Union[str, Dict[str, Any]], rootfs: Optional[str], image: Optional[str],
                      template: Optional[str], snapshot: Optional[str], timeout: Optional[int],
                      envs: Optional[Dict[str, str]], metadata: Optional[Dict[str, str]],
                      client_decider: bool = False, decider_timeout: Optional[float] = None) -> Call[SandboxInfo]:
    """``Sandbox.create``'s request: a new sandbox, or with ``snapshot`` one restored
    from it (its policy, root and env are the snapshot's: giving them too is an error)."""
    if snapshot is None:
        return create_sandbox(policy, rootfs, image, template, 300 if timeout is None else timeout, envs, metadata,
                              client_decider, decider_timeout)
    if rootfs is not None or image is not None or template is not None or envs or policy != "default":
        raise ValueError("snapshot: give no policy, rootfs, image, template or envs with it (the snapshot's own are used)")
    if client_decider or decider_timeout is not None:
        raise ValueError("snapshot: on_egress_request is for a new sandbox (a restored one keeps its snapshot's policy)")
    return restore_sandbox(snapshot, timeout, metadata)


def restore_sandbox(snapshot: str, timeout: Optional[int], metadata: Optional[Dict[str, str]]) -> Call[SandboxInfo]:
    """The create request of a sandbox restored from ``snapshot``: its policy, root and
    env are the snapshot's; ``timeout`` defaults to the time the snapshot had left."""
    body: Dict[str, Any] = {"snapshot": snapshot}
    if timeout is not None:
        body["timeout"] = timeout
    if metadata is not None:
        body["metadata"] = metadata
    return Call("POST", "/v1/sandboxes", _json(SandboxInfo.from_json), body=body)


def get_sandbox(sandbox_id: str) -> Call[SandboxInfo]:
    return Call("GET", _sandbox(sandbox_id), _json(SandboxInfo.from_json))


def list_sandboxes(metadata: Optional[Dict[str, str]]) -> Call[List[SandboxInfo]]:
    params = {f"metadata.{k}": v for k, v in (metadata or {}).items()}
    return Call("GET", "/v1/sandboxes", _json(lambda b: [SandboxInfo.from_json(d) for d in b["sandboxes"]]),
                params=params)


def kill_sandbox(sandbox_id: str) -> Call[bool]:
    """True when killed; False when it was gone already."""
    return Call("DELETE", _sandbox(sandbox_id), _true, recover=_false_when_gone)


def set_timeout(sandbox_id: str, timeout: int) -> Call[SandboxInfo]:
    return Call("POST", _sandbox(sandbox_id, "/timeout"), _json(SandboxInfo.from_json), body={"timeout": timeout})


def pause(sandbox_id: str) -> Call[SandboxInfo]:
    return Call("POST", _sandbox(sandbox_id, "/pause"), _json(SandboxInfo.from_json))


def resume(sandbox_id: str, timeout: Optional[int]) -> Call[SandboxInfo]:
    body = {"timeout": timeout} if timeout is not None else {}
    return Call("POST", _sandbox(sandbox_id, "/resume"), _json(SandboxInfo.from_json), body=body)


def commit(sandbox_id: str, name: str) -> Call[ImageInfo]:
    return Call("POST", _sandbox(sandbox_id, "/commit"), _json(ImageInfo.from_json), body={"name": name})


def sandbox_events(sandbox_id: str, after: Optional[int]) -> Stream[SandboxEvent]:
    return Stream("GET", _sandbox(sandbox_id, "/events"), _sandbox_event, params=_after(after))


def all_events(after: Optional[int]) -> Stream[SandboxEvent]:
    return Stream("GET", "/v1/events", _sandbox_event, params=_after(after))


# Network.

def _network(sandbox_id: str, suffix: str) -> str:
    return _sandbox(sandbox_id, f"/network{suffix}")


def _rule_list(rules: Iterable[str]) -> List[str]:
    listed = [rules] if isinstance(rules, str) else list(rules)
    if not listed:
        raise ValueError("name at least one rule")
    return listed


def network_rules(sandbox_id: str) -> Call[List[NetworkRule]]:
    return Call("GET", _network(sandbox_id, "/rules"), _json(lambda b: [NetworkRule.from_json(r) for r in b["rules"]]))


def network_change(sandbox_id: str, effect: str, rules: Iterable[str]) -> Call[NetworkChange]:
    """``effect`` allow or deny, for the next connections (open ones keep their verdict)."""
    return Call("POST", _network(sandbox_id, f"/{effect}"), _json(NetworkChange.from_json), body={"rules": _rule_list(rules)})


def network_stats(sandbox_id: str) -> Call[EgressStats]:
    return Call("GET", _network(sandbox_id, "/stats"), _json(EgressStats.from_json))


def pending_decisions(sandbox_id: str) -> Call[List[EgressRequest]]:
    return Call("GET", _network(sandbox_id, "/decisions"),
                _json(lambda b: [EgressRequest.from_json(sandbox_id, r) for r in b["requests"]]))


def answer_decision(sandbox_id: str, request_id: str, allow: bool, reason: str) -> Call[bool]:
    """True when the answer decided; False when the request had ended already (its
    deadline passed, another client answered) or is unknown."""
    def recover(error: SafehouseError) -> bool:
        if isinstance(error, (ConflictError, NotFoundError)):
            return False
        raise error
    return Call("POST", _network(sandbox_id, f"/decisions/{request_id}"), _true,
                body={"allow": bool(allow), "reason": reason}, recover=recover)


# Images.

def snapshot(sandbox_id: str, name: str) -> Call[SnapshotInfo]:
    return Call("POST", _sandbox(sandbox_id, "/snapshot"), _json(SnapshotInfo.from_json), body={"name": name})


def list_snapshots() -> Call[List[SnapshotInfo]]:
    return Call("GET", "/v1/snapshots", _json(lambda b: [SnapshotInfo.from_json(d) for d in b["snapshots"]]))


def delete_snapshot(name: str) -> Call[None]:
    return Call("DELETE", f"/v1/snapshots/{name}", _nothing)


def list_images() -> Call[List[ImageInfo]]:
    return Call("GET", "/v1/images", _json(lambda b: [ImageInfo.from_json(d) for d in b["images"]]))


def remove_image(name: str) -> Call[None]:
    return Call("DELETE", "/v1/images", _nothing, params={"name": name})


# Commands.

def _commands(sandbox_id: str, suffix: str = "") -> str:
    return _sandbox(sandbox_id, f"/commands{suffix}")


def _command_body(cmd: Union[str, List[str]], cwd: Optional[str], envs: Optional[Dict[str, str]],
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


def run_command(sandbox_id: str, cmd: Union[str, List[str]], cwd: Optional[str], envs: Optional[Dict[str, str]],
                timeout: Optional[float], stdin: Optional[str],
                kill_on_disconnect: bool) -> Stream[ServerSentEvent]:
    """A command run to its end, its output as events; the HTTP read timeout is the
    command's and a margin for the stop."""
    body = _command_body(cmd, cwd, envs, timeout, stdin, False, kill_on_disconnect)
    http_timeout = (timeout or DEFAULT_COMMAND_TIMEOUT) + COMMAND_STOP_MARGIN
    return Stream("POST", _commands(sandbox_id), _event, body=body, timeout=http_timeout)


def start_command(sandbox_id: str, cmd: Union[str, List[str]], cwd: Optional[str], envs: Optional[Dict[str, str]],
                  timeout: Optional[float], stdin: Optional[str]) -> Call[ProcessInfo]:
    """A background command started; the answer describes it at once."""
    body = _command_body(cmd, cwd, envs, timeout, stdin, True, False)
    return Call("POST", _commands(sandbox_id), _json(ProcessInfo.from_json), body=body)


def command_events(sandbox_id: str, cmd_id: str, after: int, timeout: Optional[float]) -> Stream[ServerSentEvent]:
    """A command's output and exit from after event ``after`` on."""
    return Stream("GET", _commands(sandbox_id, f"/{cmd_id}/events"), _event, params={"after": after},
                  timeout=timeout)


def list_commands(sandbox_id: str) -> Call[List[ProcessInfo]]:
    return Call("GET", _commands(sandbox_id), _json(lambda b: [ProcessInfo.from_json(d) for d in b["commands"]]))


def get_command(sandbox_id: str, cmd_id: str) -> Call[ProcessInfo]:
    return Call("GET", _commands(sandbox_id, f"/{cmd_id}"), _json(ProcessInfo.from_json))


def _false_when_exited(error: SafehouseError) -> bool:
    if isinstance(error, NotFoundError) or (isinstance(error, ConflictError) and "has exited" in error.message):
        return False
    raise error


def kill_command(sandbox_id: str, cmd_id: str) -> Call[bool]:
    """True when killed; False when it had exited or is unknown."""
    return Call("POST", _commands(sandbox_id, f"/{cmd_id}/kill"), _true, recover=_false_when_exited)


def send_stdin(sandbox_id: str, cmd_id: str, data: str) -> Call[None]:
    return Call("POST", _commands(sandbox_id, f"/{cmd_id}/stdin"), _nothing, body={"data": data})


def close_stdin(sandbox_id: str, cmd_id: str) -> Call[None]:
    return Call("POST", _commands(sandbox_id, f"/{cmd_id}/stdin"), _nothing, body={"close": True})


# Files.

def _files(sandbox_id: str, suffix: str = "") -> str:
    return _sandbox(sandbox_id, f"/files{suffix}")


def write_file(sandbox_id: str, path: str, data: Union[str, Content]) -> Call[EntryInfo]:
    """Text is sent as UTF-8; bytes as they are; an iterable of chunks streamed."""
    content = data.encode() if isinstance(data, str) else data
    return Call("PUT", _files(sandbox_id), _json(lambda e: EntryInfo(e["name"], e["type"], int(e["size"]), e["path"])),
                params={"path": path}, content=content)


def read_file(sandbox_id: str, path: str, format: str) -> Call[Union[str, bytes]]:
    """Bytes with ``format="bytes"``, else text (UTF-8, undecodable bytes replaced)."""
    def parse(content: bytes) -> Union[str, bytes]:
        return content if format == "bytes" else content.decode("utf-8", errors="replace")
    return Call("GET", _files(sandbox_id), parse, params={"path": path})


def list_dir(sandbox_id: str, path: str) -> Call[List[EntryInfo]]:
    base = path.rstrip("/")
    return Call("GET", _files(sandbox_id, "/list"),
                _json(lambda b: [EntryInfo(e["name"], e["type"], int(e["size"]), f"{base}/{e['name']}")
                                 for e in b["entries"]]),
                params={"path": path})


def path_exists(sandbox_id: str, path: str) -> Call[bool]:
    """A list of ``path``: a directory answers, a regular file is a 400 (not a
    directory), nothing there a 404."""
    def recover(error: SafehouseError) -> bool:
        if isinstance(error, NotFoundError):
            return False
        if isinstance(error, InvalidArgumentError):
            return True
        raise error
    return Call("GET", _files(sandbox_id, "/list"), _true, params={"path": path}, recover=recover)


def make_dir(sandbox_id: str, path: str) -> Call[bool]:
    """True when made; False when it was there already."""
    return Call("POST", _files(sandbox_id, "/mkdir"), _json(lambda b: bool(b["created"])), params={"path": path})


def remove_path(sandbox_id: str, path: str) -> Call[None]:
    return Call("DELETE", _files(sandbox_id), _nothing, params={"path": path})
