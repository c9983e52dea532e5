"""The HTTP client under the gateway: aiohttp by default, httpx when asked for or when a
transport is injected.

aiohttp is the default because it holds up under concurrency where httpx's own pool does not
(encode/httpx#3215; figures in docs/performance.md, from `make bench`). httpx stays available
(`CONVEX_HTTP_CLIENT=httpx`) and is what tests use through an injected transport (respx,
httpx.MockTransport), so they drive the gateway unchanged.

A wire reports a failure as one of three kinds, by what reached Convex, which is all the
gateway needs to decide about a retry and about a mutation's outcome.

Pooled connections and idle peers: Convex's load balancers, and Node (the embedded backend,
5 s + 1 s), close connections that sit idle, without `Connection: close`. A connection reused
just as its peer closes it fails after the request was written, and nothing then proves the
request was not read. So the pool drops idle connections first (`idle_timeout_s`, below any
plausible peer timeout), and a connection whose peer already closed it is discarded before a
request is written on it (`_FreshConnector`). What remains is a close in flight while the
request is written: a query is then retried, a mutation reported as of unknown outcome.
"""

import select
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import httpx
from aiohttp.client_exceptions import ClientConnectionResetError

HttpClient = Literal["aiohttp", "httpx"]


class NotSent(Exception):
    """No whole request reached Convex (refused, connect timeout, no free connection, or the
    connection was found closed before the body was written): a retry is always safe."""


class NoAnswer(Exception):
    """The request was sent and no answer came in time."""


class Broken(Exception):
    """The request was sent and the connection failed before a whole answer came back."""


class Wire(ABC):
    """What the gateway calls; each HTTP client implements `_send`, raising the three kinds above."""

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        fresh: bool = False,
    ) -> tuple[int, bytes]:
        """`fresh`: on a new connection, not a pooled one (a retry after a lost answer: the pool's
        other idle connections are as old as the one a peer just closed, and hand out oldest first)."""
        return await self._send(method, path, body, headers, fresh)

    @abstractmethod
    async def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None, fresh: bool
    ) -> tuple[int, bytes]: ...

    @abstractmethod
    async def aclose(self) -> None: ...


def _peer_closed(transport: Any) -> bool:
    """An idle HTTP/1.1 connection has nothing to read; if it is readable, the peer closed it
    (EOF or reset) or broke the protocol. Either way it must not carry a request."""
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    # poll, not select: select cannot watch a descriptor numbered 1,024 or more.
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True  # cannot tell: do not reuse it


class _FreshConnector(aiohttp.TCPConnector):
    """aiohttp's pool, checking each idle connection just before it is reused.

    aiohttp notices a peer's close only when its event loop gets to the socket's EOF; a busy
    loop hands out the closed connection first. This overrides aiohttp's private `_get`
    (aiohttp is pinned; tests/unit/convex/test_wire.py fails if the hook stops working).
    """

    async def _get(self, key: Any, traces: Any) -> Any:
        while (connection := await super()._get(key, traces)) is not None:
            if not _peer_closed(connection.transport):
                return connection
            connection.close()
        return None


def _nothing_was_written(exc: aiohttp.ClientOSError) -> bool:
    # aiohttp raises "Can not write request body" when the transport was already closing, so
    # the body never reached the socket and Convex cannot have read a whole request.
    return isinstance(exc.__cause__, ClientConnectionResetError) and "Can not write request body" in str(exc)


@dataclass(frozen=True)
class WireLimits:
    """How long to wait and how many connections to hold (settings CONVEX_*)."""

    connect_timeout_s: float = 2.0
    read_timeout_s: float = 10.0
    max_connections: int = 100
    # Below any plausible peer's idle close (Node: 5 s + 1 s; load balancers: a few seconds).
    idle_timeout_s: float = 4.0


class AiohttpWire(Wire):
    def __init__(self, base_url: str, headers: dict[str, str], limits: WireLimits) -> None:
        self._base = base_url
        self._session = aiohttp.ClientSession(
            headers=headers,
            # `connect` covers waiting for a pooled connection and opening one: nothing sent yet.
            timeout=aiohttp.ClientTimeout(
                total=None, connect=limits.connect_timeout_s, sock_read=limits.read_timeout_s
            ),
            connector=_FreshConnector(limit=limits.max_connections, keepalive_timeout=limits.idle_timeout_s),
        )
        # For retries after a lost answer: a new connection each, closed after its answer.
        self._fresh = aiohttp.ClientSession(
            headers=headers,
            timeout=self._session.timeout,
            connector=aiohttp.TCPConnector(limit=limits.max_connections, force_close=True),
        )

    async def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None, fresh: bool
    ) -> tuple[int, bytes]:
        session = self._fresh if fresh else self._session
        try:
            async with session.request(method, self._base + path, data=body, headers=headers) as response:
                return response.status, await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise NotSent(repr(exc)) from exc
        except aiohttp.SocketTimeoutError as exc:
            raise NoAnswer(repr(exc)) from exc
        except aiohttp.ClientOSError as exc:
            raise (NotSent if _nothing_was_written(exc) else Broken)(repr(exc)) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise Broken(repr(exc)) from exc

    async def aclose(self) -> None:
        await self._session.close()
        await self._fresh.close()


class HttpxWire(Wire):
    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        limits: WireLimits,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # httpcore checks a pooled connection for a peer's close before reusing it.
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(limits.read_timeout_s, connect=limits.connect_timeout_s),
            limits=httpx.Limits(
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_connections,
                keepalive_expiry=limits.idle_timeout_s,
            ),
            transport=transport,
        )

    async def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None, fresh: bool
    ) -> tuple[int, bytes]:
        # httpx has no per-request "new connection"; `fresh` asks the peer to close this one after.
        if fresh:
            headers = {**(headers or {}), "Connection": "close"}
        try:
            response = await self._client.request(method, path, content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NotSent(repr(exc)) from exc
        except httpx.TimeoutException as exc:
            raise NoAnswer(repr(exc)) from exc
        except httpx.TransportError as exc:
            raise Broken(repr(exc)) from exc
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self._client.aclose()


def open_wire(
    kind: HttpClient,
    base_url: str,
    headers: dict[str, str],
    limits: WireLimits,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Wire:
    if kind == "httpx" or transport is not None:
        return HttpxWire(base_url, headers, limits, transport=transport)
    return AiohttpWire(base_url, headers, limits)
