"""Client for the safehouse sandbox API (``safehouse serve``).

    from safehouse import Sandbox

    with Sandbox.create(rootfs="/path/to/rootfs") as sbx:
        print(sbx.commands.run("echo hi").stdout)
"""

from ._models import (CommandResult, EgressRequest, EgressStats, EntryInfo, ImageInfo, NetworkChange, NetworkRule,
                      ProcessInfo, SandboxEvent, SandboxInfo, SnapshotInfo)
from .async_sandbox import AsyncCommandHandle, AsyncCommands, AsyncFiles, AsyncNetwork, AsyncSandbox
from .errors import (
    AuthenticationError,
    CommandExitError,
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    SafehouseError,
    TimeoutError,
)
from .sandbox import CommandHandle, Commands, EgressFollower, Files, Network, Sandbox

__all__ = [
    "AsyncCommandHandle",
    "AsyncCommands",
    "AsyncFiles",
    "AsyncNetwork",
    "AsyncSandbox",
    "AuthenticationError",
    "CommandExitError",
    "CommandHandle",
    "CommandResult",
    "ConflictError",
    "Commands",
    "EgressFollower",
    "EgressRequest",
    "EgressStats",
    "EntryInfo",
    "Files",
    "InvalidArgumentError",
    "Network",
    "NetworkChange",
    "NetworkRule",
    "NotFoundError",
    "ProcessInfo",
    "SafehouseError",
    "Sandbox",
    "SandboxEvent",
    "SnapshotInfo",
    "ImageInfo",
    "SandboxInfo",
    "TimeoutError",
]
