"""The async twin of Connection: the same service, reached through httpx.AsyncClient."""

from __future__ import annotations

import os
from typing import Any, AsyncIterator, Dict, Optional, Tuple

import httpx

from .connection import DEFAULT_URL, SSEParser, error_from


class AsyncConnection:
    """An async HTTP client for one service: ``unix:///path`` or ``http://host:port``."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None,
                 request_timeout: float = 120.0) -> None:
        self.url = url or os.environ.get("SAFEHOUSE_URL") or DEFAULT_URL
        self.token = token if token is not None else os.environ.get("SAFEHOUSE_TOKEN")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        timeout = httpx.Timeout(request_timeout, connect=10.0)
        if self.url.startswith("unix://"):
            transport = httpx.AsyncHTTPTransport(uds=self.url[len("unix://"):])
            self._client = httpx.AsyncClient(transport=transport, base_url="http://safehouse", headers=headers,
                                             timeout=timeout)
        elif self.url.startswith(("http://", "https://")):
            self._client = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)
        else:
            raise ValueError(f"SAFEHOUSE_URL: {self.url!r} is neither unix:///path nor http://host:port")

    async def close(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, path: str, *, json_body: Any = None, params: Any = None,
                      content: Any = None, timeout: Optional[float] = None) -> httpx.Response:
        kwargs: Dict[str, Any] = {"params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        if content is not None:
            kwargs["content"] = content
        if timeout is not None:
            kwargs["timeout"] = timeout
        response = await self._client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise error_from(response.status_code, response.content)
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None

    async def stream(self, method: str, path: str, *, body: Any = None, params: Any = None,
                     timeout: Optional[float] = None) -> AsyncIterator[Tuple[str, Optional[int], Dict[str, Any]]]:
        """Sends the request and yields its Server-Sent Events as (event, id, data)."""
        kwargs: Dict[str, Any] = {"headers": {"Accept": "text/event-stream"}, "params": params,
                                  "timeout": httpx.Timeout(timeout, connect=10.0)}
        if body is not None:
            kwargs["json"] = body
        async with self._client.stream(method, path, **kwargs) as response:
            if response.status_code >= 400:
                raise error_from(response.status_code, await response.aread())
            parser = SSEParser()
            async for line in response.aiter_lines():
                event = parser.feed(line)
                if event is not None:
                    yield event
