"""The HTTP client under the gateway: aiohttp by default, httpx when asked for or when a
transport is injected.

aiohttp is the default because it holds up under concurrency where httpx's own pool does not
(encode/httpx#3215; figures in docs/performance.md, from `make bench`). httpx stays available
(`CONVEX_HTTP_CLIENT=httpx`) and is what tests use through an injected transport (respx,
httpx.MockTransport), so they drive the gateway unchanged.

A wire reports a failure as one of three kinds, which is all the gateway needs to decide
about a retry and about a mutation's outcome.
"""

from typing import Literal, Protocol

import aiohttp
import httpx

HttpClient = Literal["aiohttp", "httpx"]


class NotSent(Exception):
    """No byte of the request reached Convex (refused, connect timeout, no free connection)."""


class NoAnswer(Exception):
    """The request was sent and no answer came in time."""


class Broken(Exception):
    """The request was sent and the connection failed before a whole answer came back."""


class Wire(Protocol):
    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]: ...
    async def aclose(self) -> None: ...


class AiohttpWire:
    def __init__(self, base_url: str, headers: dict[str, str], *, connect_timeout_s: float,
                 read_timeout_s: float, max_connections: int) -> None:
        self._base = base_url
        self._session = aiohttp.ClientSession(
            headers=headers,
            # `connect` covers waiting for a pooled connection and opening one: nothing sent yet.
            timeout=aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=read_timeout_s),
            connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=30),
        )

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
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

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
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


def open_wire(kind: HttpClient, base_url: str, headers: dict[str, str], *, connect_timeout_s: float,
              read_timeout_s: float, max_connections: int,
              transport: httpx.AsyncBaseTransport | None = None) -> Wire:
    options = {"connect_timeout_s": connect_timeout_s, "read_timeout_s": read_timeout_s,
               "max_connections": max_connections}
    if kind == "httpx" or transport is not None:
        return HttpxWire(base_url, headers, transport=transport, **options)
    return AiohttpWire(base_url, headers, **options)
