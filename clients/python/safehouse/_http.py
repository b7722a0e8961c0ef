"""What the sync and the async connection share: where the service is
(``SAFEHOUSE_URL`` and ``SAFEHOUSE_TOKEN``), the httpx options of a Call or a Stream,
and a parser of Server-Sent Events."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import httpx

from ._api import Call, ServerSentEvent, Stream

DEFAULT_URL = "unix:///run/safehouse/api.sock"
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Service:
    """How to reach one service: a Unix socket (``unix:///path``) or TCP
    (``http://host:port``, with a bearer token)."""

    url: str
    token: Optional[str]
    #: The socket's path for ``unix://``; None for TCP.
    socket_path: Optional[str]
    base_url: str
    headers: Dict[str, str]

    @classmethod
    def locate(cls, url: Optional[str], token: Optional[str]) -> "Service":
        """The service at ``url`` with ``token``, each from the environment when not given."""
        url = url or os.environ.get("SAFEHOUSE_URL") or DEFAULT_URL
        token = token if token is not None else os.environ.get("SAFEHOUSE_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if url.startswith("unix://"):
            return cls(url, token, url[len("unix://"):], "http://safehouse", headers)
        if url.startswith(("http://", "https://")):
            return cls(url, token, None, url, headers)
        raise ValueError(f"SAFEHOUSE_URL: {url!r} is neither unix:///path nor http://host:port")


def client_timeout(request_timeout: float) -> httpx.Timeout:
    return httpx.Timeout(request_timeout, connect=CONNECT_TIMEOUT)


def call_options(call: Call[Any]) -> Dict[str, Any]:
    """The keyword arguments of httpx's ``request`` for ``call``."""
    options: Dict[str, Any] = {"params": call.params}
    if call.body is not None:
        options["json"] = call.body
    if call.content is not None:
        options["content"] = call.content
    return options


def stream_options(stream: Stream[Any]) -> Dict[str, Any]:
    """The keyword arguments of httpx's ``stream`` for ``stream``."""
    options: Dict[str, Any] = {"headers": {"Accept": "text/event-stream"}, "params": stream.params,
                               "timeout": httpx.Timeout(stream.timeout, connect=CONNECT_TIMEOUT)}
    if stream.body is not None:
        options["json"] = stream.body
    return options


class SSEParser:
    """Server-Sent Events, a line at a time: ``feed`` returns (event, id, data) at the
    blank line that ends an event with data, else None."""

    def __init__(self) -> None:
        self.event: str = "message"
        self.id: Optional[int] = None
        self.data: List[str] = []

    def feed(self, line: str) -> Optional[ServerSentEvent]:
        if line == "":
            out = (self.event, self.id, json.loads("\n".join(self.data))) if self.data else None
            self.event, self.id, self.data = "message", None, []
            return out
        if line.startswith("event:"):
            self.event = line[len("event:"):].strip()
        elif line.startswith("id:"):
            text = line[len("id:"):].strip()
            self.id = int(text) if text.isdigit() else None
        elif line.startswith("data:"):
            self.data.append(line[len("data:"):].lstrip())
        return None
