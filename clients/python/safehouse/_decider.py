"""A client as its sandbox's egress decider: what ``on_egress_request`` answers.

The sandbox's warden asks the service about each destination no rule covers; the
service puts the question on the sandbox's event stream (``egress_decision_needed``)
and the first answer decides. ``Sandbox`` and ``AsyncSandbox`` follow the stream on a
thread or a task and answer with the callback; a question whose deadline has passed
(one replayed from before this client followed) is left alone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Optional, Tuple, Union

from ._models import EgressRequest, SandboxEvent

#: What ``on_egress_request`` returns: allow or not, optionally with a reason.
Verdict = Union[bool, Tuple[bool, str]]
EgressCallback = Callable[[EgressRequest], Any]

NEEDED = "egress_decision_needed"


def question(event: SandboxEvent) -> Optional[EgressRequest]:
    """The question an event asks, when it asks one still open."""
    if event.type != NEEDED:
        return None
    request = EgressRequest.from_json(event.sandbox_id, event.details)
    try:
        deadline = datetime.fromisoformat(request.deadline.replace("Z", "+00:00"))
    except ValueError:
        return request
    return request if deadline > datetime.now(timezone.utc) else None


def verdict(result: Any) -> Tuple[bool, str]:
    """The callback's result as (allow, reason); anything but True or (True, ...) refuses."""
    if isinstance(result, tuple) and len(result) == 2:
        return result[0] is True, str(result[1])
    return result is True, ""


def failure(error: BaseException) -> Tuple[bool, str]:
    """A callback that raised refuses, saying so."""
    return False, f"the client's callback raised {type(error).__name__}: {error}"[:1000]
