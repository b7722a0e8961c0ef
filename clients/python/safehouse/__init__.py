"""Client for the safehouse sandbox API (``safehouse serve``).

    from safehouse import Sandbox

    with Sandbox.create(rootfs="/path/to/rootfs") as sbx:
        print(sbx.commands.run("echo hi").stdout)
"""

from ._models import CommandResult, EntryInfo, ImageInfo, ProcessInfo, SandboxEvent, SandboxInfo
from .async_sandbox import AsyncCommandHandle, AsyncCommands, AsyncFiles, AsyncSandbox
from .errors import (
    AuthenticationError,
    CommandExitError,
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    SafehouseError,
    TimeoutError,
)
from .sandbox import CommandHandle, Commands, Files, Sandbox

__all__ = [
    "AsyncCommandHandle",
    "AsyncCommands",
    "AsyncFiles",
    "AsyncSandbox",
    "AuthenticationError",
    "CommandExitError",
    "CommandHandle",
    "CommandResult",
    "ConflictError",
    "Commands",
    "EntryInfo",
    "Files",
    "InvalidArgumentError",
    "NotFoundError",
    "ProcessInfo",
    "SafehouseError",
    "Sandbox",
    "SandboxEvent",
    "ImageInfo",
    "SandboxInfo",
    "TimeoutError",
]
