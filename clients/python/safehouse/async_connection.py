"""The async connection: sends the API's Calls and Streams with httpx.AsyncClient."""

from __future__ import annotations

from typing import Any, AsyncIterator, Optional, TypeVar

import httpx

from ._api import Call, Stream, error_from
from ._http import SSEParser, Service, call_options, client_timeout, stream_options

T = TypeVar("T")


class AsyncConnection:
    """An async HTTP client for one service: ``unix:///path`` or ``http://host:port``."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None,
                 request_timeout: float = 120.0) -> None:
        service = Service.locate(url, token)
        self.url = service.url
        self.token = service.token
        transport = httpx.AsyncHTTPTransport(uds=service.socket_path) if service.socket_path else None
        self._client = httpx.AsyncClient(transport=transport, base_url=service.base_url, headers=service.headers,
                                         timeout=client_timeout(request_timeout))

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> "AsyncConnection":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def call(self, call: Call[T]) -> T:
        """Sends ``call`` and returns its answer read, or raises its error."""
        response = await self._client.request(call.method, call.path, **call_options(call))
        return call.answer(response.status_code, response.content)

    async def stream(self, stream: Stream[T]) -> AsyncIterator[T]:
        """Sends ``stream`` and yields each of its events as it comes, read."""
        async with self._client.stream(stream.method, stream.path, **stream_options(stream)) as response:
            if response.status_code >= 400:
                raise error_from(response.status_code, await response.aread())
            parser = SSEParser()
            async for line in response.aiter_lines():
                event = parser.feed(line)
                if event is not None:
                    yield stream.read(event)
