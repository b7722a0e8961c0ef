"""The values the service answers with, each read from its JSON in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


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
    """One event of a sandbox: ``type`` is created, paused, resumed, timeout_set,
    committed, killed, expired, limit, egress, files, exit, stopped, or, for a sandbox
    whose client decides its egress, egress_decision_needed, egress_decision_answered
    and egress_decision_expired; ``seq`` orders all events."""

    seq: int
    sandbox_id: str
    type: str
    time: str
    details: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "SandboxEvent":
        return cls(int(d["seq"]), d["sandboxId"], d["type"], d["time"], d.get("details") or {})


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
    #: The host directory it was made from; None when it was made from an image.
    rootfs: Optional[str]
    state: str
    started_at: str
    end_at: str
    metadata: Dict[str, str] = field(default_factory=dict)
    #: The image it was made from (E2B's template); None for a rootfs.
    image: Optional[str] = None
    #: The snapshot it was restored from; None for a new one.
    snapshot: Optional[str] = None

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "SandboxInfo":
        return cls(d["id"], d["policy"], d.get("rootfs"), d["state"], d["createdAt"], d["expiresAt"],
                   d.get("metadata") or {}, d.get("image"), d.get("snapshot"))


@dataclass
class SnapshotInfo:
    """A sandbox saved to disk (``Sandbox.snapshot``): its name, the sandbox it was
    taken of, and the time it had left (a restored sandbox's default deadline)."""

    name: str
    source: str
    policy: str
    created_at: str
    timeout: int
    metadata: Dict[str, str] = field(default_factory=dict)
    rootfs: Optional[str] = None
    image: Optional[str] = None
    backend: Optional[str] = None

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "SnapshotInfo":
        return cls(d["name"], d["source"], d["policy"], d["createdAt"], int(d["timeout"]), d.get("metadata") or {},
                   d.get("rootfs"), d.get("image"), d.get("backend"))


@dataclass
class ImageInfo:
    """An image in the service's store: its name, its layers (bottom first) and where
    it came from; ``changes`` is what a commit put in its top layer."""

    name: str
    layers: List[str]
    source: str
    size: int = 0
    changes: List[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "ImageInfo":
        return cls(d["name"], list(d["layers"]), d.get("source", ""), int(d.get("size", 0)), list(d.get("changes") or []))


@dataclass
class NetworkRule:
    """One rule of a sandbox's live allowlist: ``effect`` is allow or deny; ``source``
    is ``policy`` or who added it (the warden's record of the asker)."""

    rule: str
    effect: str
    source: str

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "NetworkRule":
        return cls(d["rule"], d["effect"], d["source"])


@dataclass
class NetworkChange:
    """What ``network.allow`` or ``network.deny`` changed (``"added allow x.test"``,
    ``"removed deny x.test"``), and the rules after it."""

    changes: List[str]
    rules: List[NetworkRule]

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "NetworkChange":
        return cls(list(d.get("changes") or []), [NetworkRule.from_json(r) for r in d.get("rules") or []])


@dataclass
class EgressStats:
    """A sandbox's egress so far: decisions by outcome, bytes each way over every
    connection, and the connections open now."""

    allowed: int
    denied: int
    failed: int
    bytes_up: int
    bytes_down: int
    connections: int

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "EgressStats":
        return cls(int(d["allowed"]), int(d["denied"]), int(d["failed"]), int(d["bytesUp"]), int(d["bytesDown"]),
                   int(d["connections"]))


@dataclass
class EgressRequest:
    """A destination no rule covers that the sandbox's client decider is asked about:
    ``host`` (a name or an address) and ``port`` (0: a name lookup by the sandbox's
    DNS, whose answer stands for every port), to be answered by ``deadline``."""

    request_id: str
    sandbox_id: str
    host: str
    port: int
    deadline: str

    @classmethod
    def from_json(cls, sandbox_id: str, d: Dict[str, Any]) -> "EgressRequest":
        return cls(d["requestId"], sandbox_id, d["host"], int(d["port"]), d["deadline"])
