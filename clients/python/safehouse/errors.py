"""The errors the client raises: one per stable error code of the API."""

from __future__ import annotations

from typing import Any, Dict, Optional


class SafehouseError(Exception):
    """An error answered by the service (``code`` is the API's stable error code)."""

    def __init__(self, message: str, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class InvalidArgumentError(SafehouseError):
    """400: a malformed request; the message starts with the field."""


class NotFoundError(SafehouseError):
    """404: no such sandbox, file or route."""


class AuthenticationError(SafehouseError):
    """401: missing or wrong token (``SAFEHOUSE_TOKEN``)."""


class ConflictError(SafehouseError):
    """409: the sandbox cannot do this now (paused, stopped; a command that has exited)."""


class TimeoutError(SafehouseError):
    """A command ran past its timeout and was stopped."""


class CommandExitError(SafehouseError):
    """Not raised by ``commands.run`` (which returns the exit code); for callers that
    want to raise on a non-zero exit: ``raise CommandExitError.from_result(r)``."""

    def __init__(self, message: str, stdout: str = "", stderr: str = "", exit_code: int = 0) -> None:
        super().__init__(message, "command_exit", 0)
        self.stdout = stdout
        self.stderr = stderr
        self.exit_code = exit_code

    @classmethod
    def from_result(cls, result: Any) -> "CommandExitError":
        return cls(f"command exited with {result.exit_code}", result.stdout, result.stderr, result.exit_code)


_BY_STATUS = {400: InvalidArgumentError, 401: AuthenticationError, 404: NotFoundError, 409: ConflictError}


def from_response(status: int, body: Optional[Dict[str, Any]]) -> SafehouseError:
    """The error for an API error response."""
    error = (body or {}).get("error") or {}
    code = str(error.get("code", ""))
    message = str(error.get("message", f"HTTP {status}"))
    cls = _BY_STATUS.get(status, SafehouseError)
    return cls(message, code, status)
