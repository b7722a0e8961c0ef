"""Where the service is and how to reach it: ``SAFEHOUSE_URL`` and ``SAFEHOUSE_TOKEN``."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx

from .errors import SafehouseError, from_response

DEFAULT_URL = "unix:///run/safehouse/api.sock"


class Connection:
    """An HTTP client for one service: a Unix socket (``unix:///path``) or TCP
    (``http://host:port``, with a bearer token)."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None,
                 request_timeout: float = 120.0) -> None:
        self.url = url or os.environ.get("SAFEHOUSE_URL") or DEFAULT_URL
        self.token = token if token is not None else os.environ.get("SAFEHOUSE_TOKEN")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        timeout = httpx.Timeout(request_timeout, connect=10.0)
        if self.url.startswith("unix://"):
            path = self.url[len("unix://"):]
            transport = httpx.HTTPTransport(uds=path)
            self._client = httpx.Client(transport=transport, base_url="http://safehouse", headers=headers, timeout=timeout)
        elif self.url.startswith(("http://", "https://")):
            self._client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        else:
            raise ValueError(f"SAFEHOUSE_URL: {self.url!r} is neither unix:///path nor http://host:port")

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, *, json_body: Any = None, params: Any = None,
                content: Any = None, timeout: Optional[float] = None) -> httpx.Response:
        kwargs: Dict[str, Any] = {"params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        if content is not None:
            kwargs["content"] = content
        if timeout is not None:
            kwargs["timeout"] = timeout
        response = self._client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise self._error(response.status_code, response.content)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def stream_events(self, path: str, body: Any, timeout: Optional[float]) -> Iterator[Tuple[str, Dict[str, Any]]]:
        """POSTs ``body`` and yields the Server-Sent Events of the answer as (event, data)."""
        for event, _, data in self.stream("POST", path, body=body, timeout=timeout):
            yield event, data

    def stream(self, method: str, path: str, *, body: Any = None, params: Any = None,
               timeout: Optional[float] = None) -> Iterator[Tuple[str, Optional[int], Dict[str, Any]]]:
        """Sends the request and yields its Server-Sent Events as (event, id, data);
        ``timeout`` None waits for each event as long as it takes."""
        headers = {"Accept": "text/event-stream"}
        kwargs: Dict[str, Any] = {"headers": headers, "params": params,
                                  "timeout": httpx.Timeout(timeout, connect=10.0)}
        if body is not None:
            kwargs["json"] = body
        with self._client.stream(method, path, **kwargs) as response:
            if response.status_code >= 400:
                raise self._error(response.status_code, response.read())
            parser = SSEParser()
            for line in response.iter_lines():
                event = parser.feed(line)
                if event is not None:
                    yield event

    @staticmethod
    def _error(status: int, content: bytes) -> SafehouseError:
        return error_from(status, content)


class SSEParser:
    """Server-Sent Events, a line at a time: ``feed`` returns (event, id, data) at the
    blank line that ends an event with data, else None."""

    def __init__(self) -> None:
        self.event: str = "message"
        self.id: Optional[int] = None
        self.data: List[str] = []

    def feed(self, line: str) -> Optional[Tuple[str, Optional[int], Dict[str, Any]]]:
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


def error_from(status: int, content: bytes) -> SafehouseError:
    """The error for an API error answer's status and body."""
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    return from_response(status, body if isinstance(body, dict) else None)
