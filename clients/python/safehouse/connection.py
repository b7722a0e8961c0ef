"""The sync connection: sends the API's Calls and Streams with httpx.Client."""

from __future__ import annotations

from typing import Any, Iterator, Optional, TypeVar

import httpx

from ._api import Call, Stream, error_from
from ._http import SSEParser, Service, call_options, client_timeout, stream_options

T = TypeVar("T")


class Connection:
    """An HTTP client for one service: a Unix socket (``unix:///path``) or TCP
    (``http://host:port``, with a bearer token)."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None,
                 request_timeout: float = 120.0) -> None:
        service = Service.locate(url, token)
        self.url = service.url
        self.token = service.token
        transport = httpx.HTTPTransport(uds=service.socket_path) if service.socket_path else None
        self._client = httpx.Client(transport=transport, base_url=service.base_url, headers=service.headers,
                                    timeout=client_timeout(request_timeout))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def call(self, call: Call[T]) -> T:
        """Sends ``call`` and returns its answer read, or raises its error."""
        response = self._client.request(call.method, call.path, **call_options(call))
        return call.answer(response.status_code, response.content)

    def stream(self, stream: Stream[T]) -> Iterator[T]:
        """Sends ``stream`` and yields each of its events as it comes, read."""
        with self._client.stream(stream.method, stream.path, **stream_options(stream)) as response:
            if response.status_code >= 400:
                raise error_from(response.status_code, response.read())
            parser = SSEParser()
            for line in response.iter_lines():
                event = parser.feed(line)
                if event is not None:
                    yield stream.read(event)
