"""The HTTP client under the gateway: aiohttp by default, httpx when a transport is injected.

aiohttp is the default because it holds up under concurrency where httpx's own pool does not
(encode/httpx#3215; figures in docs/performance.md: bench/transports.py). httpx stays for
injected transports, so respx-based tests drive the gateway unchanged.

Each wire reports a failure as one of three kinds, which is all the gateway needs to know
to decide about retries and about a mutation's outcome.
"""

from typing import Protocol

import aiohttp
import httpx


class NotSent(Exception):
    """No byte of the request reached Convex (refused, connect timeout, no free connection)."""


class NoAnswer(Exception):
    """The request was sent, and no answer came in time."""


class Broken(Exception):
    """The request was sent, and the connection failed before a whole answer came back."""


class Wire(Protocol):
    async def post(self, path: str, body: bytes) -> tuple[int, bytes]: ...
    async def get(self, path: str) -> tuple[int, bytes]: ...
    async def aclose(self) -> None: ...


class AiohttpWire:
    def __init__(self, base_url: str, headers: dict[str, str], *, connect_timeout_s: float,
                 read_timeout_s: float, max_connections: int) -> None:
        self._base = base_url
        # `connect` covers waiting for a pooled connection and opening one: nothing sent yet.
        self._session = aiohttp.ClientSession(
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=read_timeout_s),
            connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=30),
            auto_decompress=True,
        )

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        return await self._send("POST", path, body)

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self._send("GET", path, None)

    async def _send(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        try:
            async with self._session.request(method, self._base + path, data=body) as response:
                return response.status, await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise NotSent(repr(exc)) from exc
        except aiohttp.SocketTimeoutError as exc:
            raise NoAnswer(repr(exc)) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise Broken(repr(exc)) from exc

    async def aclose(self) -> None:
        await self._session.close()


class HttpxWire:
    def __init__(self, base_url: str, headers: dict[str, str], *, connect_timeout_s: float,
                 read_timeout_s: float, max_connections: int,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
        )

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        return await self._send("POST", path, body)

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self._send("GET", path, None)

    async def _send(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        try:
            response = await self._client.request(method, path, content=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NotSent(repr(exc)) from exc
        except httpx.TimeoutException as exc:
            raise NoAnswer(repr(exc)) from exc
        except httpx.TransportError as exc:
            raise Broken(repr(exc)) from exc
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self._client.aclose()
