"""Client for the safehouse sandbox API (``safehouse serve``).

    from safehouse import Sandbox

    with Sandbox.create(rootfs="/path/to/rootfs") as sbx:
        print(sbx.commands.run("echo hi").stdout)
"""

from .errors import (
    AuthenticationError,
    CommandExitError,
    InvalidArgumentError,
    NotFoundError,
    SafehouseError,
    TimeoutError,
)
from .sandbox import (
    CommandResult,
    Commands,
    EntryInfo,
    Files,
    Sandbox,
    SandboxInfo,
)

__all__ = [
    "AuthenticationError",
    "CommandExitError",
    "CommandResult",
    "Commands",
    "EntryInfo",
    "Files",
    "InvalidArgumentError",
    "NotFoundError",
    "SafehouseError",
    "Sandbox",
    "SandboxInfo",
    "TimeoutError",
]
