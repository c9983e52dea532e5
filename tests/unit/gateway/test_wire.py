"""The aiohttp wire on real sockets: a pooled connection that its peer has closed is never
written on. A peer (Node, a load balancer) closes idle connections without warning; when the
BFF's event loop is busy, aiohttp has not yet seen the close when it hands the connection out.
The peer here runs in its own thread, so it can close while the test blocks the event loop."""

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterator

import aiohttp
import httpx
import pytest
from aiohttp.client_exceptions import ClientConnectionResetError

from app.gateway.client import ConvexGateway
from app.gateway.wire import (
    AiohttpWire,
    Broken,
    HttpxWire,
    NoAnswer,
    NotSent,
    WireLimits,
    _FreshConnector,
    _nothing_was_written,
)

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class ClosingPeer:
    """Answers each request, keeps the connection open, and closes every open connection on demand."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self.requests = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                head, rest = buffer.split(b"\r\n\r\n", 1)
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                if len(rest) < length:
                    break
                buffer = rest[length:]
                with self._lock:
                    self.requests += 1
                try:
                    conn.sendall(ANSWER)
                except OSError:
                    return

    def close_idle_connections(self) -> None:
        with self._lock:
            for conn in self.connections:
                # shutdown sends the FIN now (close alone waits for the serving thread's recv).
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.connections.clear()

    def stop(self) -> None:
        self.listener.close()
        self.close_idle_connections()


@pytest.fixture
def peer() -> Iterator[ClosingPeer]:
    running = ClosingPeer()
    yield running
    running.stop()


async def burst_close_burst(url: str, connector: aiohttp.TCPConnector, peer: ClosingPeer) -> list[str]:
    failures: list[str] = []
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            try:
                async with session.post(url + "/api/query", data=b'{"path":"x:y","args":{}}') as response:
                    await response.read()
            except aiohttp.ClientError as exc:
                failures.append(type(exc).__name__)

        await asyncio.gather(*(call() for _ in range(20)))
        # The peer closes every idle connection while the event loop is busy elsewhere (blocked),
        # so aiohttp's own bookkeeping cannot have noticed before the next burst.
        peer.close_idle_connections()
        time.sleep(0.2)  # noqa: ASYNC251  blocks the event loop on purpose: the point of the test
        await asyncio.gather(*(call() for _ in range(20)))
    return failures


async def test_plain_aiohttp_writes_requests_onto_connections_its_peer_closed(peer):
    # The hazard the wire guards against, shown on aiohttp's own connector.
    failures = await burst_close_burst(peer.url, aiohttp.TCPConnector(limit=100), peer)
    assert failures, "expected the closed pooled connections to fail requests"


async def test_the_wire_never_writes_onto_a_connection_its_peer_closed(peer):
    failures = await burst_close_burst(peer.url, _FreshConnector(limit=100), peer)
    assert failures == []
    assert peer.requests == 40


async def test_idle_connections_are_dropped_after_the_idle_timeout(peer):
    wire = AiohttpWire(
        peer.url, {}, WireLimits(connect_timeout_s=1, read_timeout_s=1, max_connections=10, idle_timeout_s=0.1)
    )
    try:
        await wire.request("POST", "/api/query", b"{}")
        await asyncio.sleep(0.3)
        await wire.request("POST", "/api/query", b"{}")
    finally:
        await wire.aclose()
    assert peer.requests == 2
    assert len(peer.connections) == 2  # the second request came on a new connection


async def test_a_refused_connection_is_reported_as_not_sent():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: connections are refused
        wire = AiohttpWire(
            f"http://127.0.0.1:{port}", {}, WireLimits(connect_timeout_s=1, read_timeout_s=1, max_connections=10)
        )
        try:
            with pytest.raises(NotSent) as caught:
                await wire.request("POST", "/api/mutation", b"{}")
        finally:
            await wire.aclose()
    assert str(caught.value) == repr(caught.value.__cause__)  # for the logs: what aiohttp said


# --- how each failure is classified (app/gateway/wire.py): NotSent only when no whole request
# can have reached the peer, since the gateway resends an action only then.


async def test_a_request_onto_a_connection_found_closed_is_not_sent_and_never_reaches_the_peer(peer):
    """aiohttp's own pool (without the wire's check) hands out the connections the peer closed:
    each such request fails as NotSent, and the peer received none of them."""
    wire = AiohttpWire(peer.url, {}, WireLimits(read_timeout_s=2))
    await wire._session.close()
    wire._session = aiohttp.ClientSession(timeout=wire._fresh.timeout, connector=aiohttp.TCPConnector(limit=100))
    outcomes: list[str] = []
    said: list[tuple[str, str]] = []  # for the logs: what aiohttp said

    async def call() -> None:
        try:
            await wire.request("POST", "/api/query", b'{"path":"x:y","args":{}}')
            outcomes.append("answered")
        except (NotSent, NoAnswer, Broken) as exc:
            outcomes.append(type(exc).__name__)
            said.append((str(exc), repr(exc.__cause__)))

    try:
        await asyncio.gather(*(call() for _ in range(20)))
        peer.close_idle_connections()
        time.sleep(0.2)  # noqa: ASYNC251  the event loop must not see the closes before the next burst
        await asyncio.gather(*(call() for _ in range(20)))
    finally:
        await wire.aclose()
    assert outcomes.count("answered") == 20 and outcomes.count("NotSent") == 20
    assert peer.requests == 20  # the first burst's: nothing of the second reached it
    assert all(text == cause for text, cause in said)


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    return head + await reader.readexactly(length)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashed peer or a load balancer's RST does."""
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _reset_at_once(writer: asyncio.StreamWriter) -> None:
    _reset(writer)


async def _close_at_once(writer: asyncio.StreamWriter) -> None:
    writer.close()


async def _cut_answer(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" + b'{"status":')
    await writer.drain()
    writer.close()


async def _no_answer(writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(2)  # past the wire's read timeout
    writer.close()


@pytest.mark.parametrize(
    ("after_the_request", "raised"),
    [(_reset_at_once, Broken), (_close_at_once, Broken), (_cut_answer, Broken), (_no_answer, NoAnswer)],
    ids=["reset", "closed", "cut-answer", "no-answer"],
)
async def test_a_failure_after_the_whole_request_arrived_is_never_not_sent(after_the_request, raised):
    """The peer read the whole request (Convex may have applied it), then failed as named."""
    arrived: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        arrived.append(await _read_request(reader))
        await after_the_request(writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    wire = AiohttpWire(
        f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}",
        {},
        WireLimits(connect_timeout_s=1, read_timeout_s=0.5),
    )
    try:
        with pytest.raises(raised) as caught:
            await wire.request("POST", "/api/mutation", b'{"path":"x:y","args":{}}')
    finally:
        await wire.aclose()
        server.close()
    assert len(arrived) == 1 and arrived[0].endswith(b'{"path":"x:y","args":{}}')
    assert str(caught.value) == repr(caught.value.__cause__)  # for the logs: what aiohttp said


async def test_a_reset_in_the_middle_of_a_large_body_is_broken_not_not_sent():
    """Part of the body was written: no whole request arrived, but it is not called NotSent
    either, which would let an action be resent on a guess."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        _reset(writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    wire = AiohttpWire(
        f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", {}, WireLimits(connect_timeout_s=1, read_timeout_s=2)
    )
    try:
        with pytest.raises(Broken):
            await wire.request("POST", "/api/action", b"{" + b" " * (32 << 20) + b"}")
    finally:
        await wire.aclose()
        server.close()


# --- connections: pooled ones reused, a retry's own, the pool's bound, what each request carries.


async def test_sequential_requests_reuse_one_pooled_connection(peer):
    wire = AiohttpWire(peer.url, {}, WireLimits(read_timeout_s=1))
    try:
        for _ in range(3):
            assert await wire.request("POST", "/api/query", b"{}") == (200, b"{}")
    finally:
        await wire.aclose()
    assert peer.requests == 3 and len(peer.connections) == 1


async def test_a_fresh_request_goes_out_on_a_new_connection_of_its_own(peer):
    """A retry after a lost answer: never on a pooled connection, and its own is not pooled after."""
    wire = AiohttpWire(peer.url, {}, WireLimits(read_timeout_s=1))
    try:
        await wire.request("POST", "/api/query", b"{}")
        await wire.request("POST", "/api/query", b"{}", fresh=True)
        await wire.request("POST", "/api/query", b"{}", fresh=True)
    finally:
        await wire.aclose()
    assert peer.requests == 3 and len(peer.connections) == 3


async def serve_recording(
    heads: list[bytes], answer: asyncio.Event | None = None, arrived: asyncio.Event | None = None
) -> asyncio.Server:
    """A peer that records each request's head (setting `arrived`) and answers it (once `answer`
    is set, if given)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                request = await _read_request(reader)
                heads.append(request.split(b"\r\n\r\n")[0].lower())
                if arrived is not None:
                    arrived.set()
                if answer is not None:
                    await answer.wait()
                writer.write(ANSWER)
                await writer.drain()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


@pytest.mark.parametrize("fresh", [False, True], ids=["pooled", "fresh"])
async def test_every_request_carries_the_wires_headers_and_its_own(fresh):
    heads: list[bytes] = []
    server = await serve_recording(heads)
    wire = AiohttpWire(
        f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", {"Authorization": "Convex key"}, WireLimits()
    )
    try:
        await wire.request("POST", "/api/query", b"{}", {"Convex-Request-Id": "r1"}, fresh=fresh)
    finally:
        await wire.aclose()
        server.close()
    [head] = heads
    assert b"\r\nauthorization: convex key\r\n" in head and b"\r\nconvex-request-id: r1" in head


@pytest.mark.parametrize("fresh", [False, True], ids=["pooled", "fresh"])
async def test_waiting_for_a_free_connection_past_the_connect_timeout_is_not_sent(fresh):
    """`max_connections` bounds the pool; a request that found no free connection in time never
    left, so it is safe to send again."""
    heads: list[bytes] = []
    answer, arrived = asyncio.Event(), asyncio.Event()
    server = await serve_recording(heads, answer, arrived)
    wire = AiohttpWire(
        f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}",
        {},
        WireLimits(connect_timeout_s=0.05, read_timeout_s=1, max_connections=1),
    )
    try:
        first = asyncio.create_task(wire.request("POST", "/api/query", b"{}", fresh=fresh))
        await arrived.wait()  # the first request holds the one connection
        with pytest.raises(NotSent):
            await wire.request("POST", "/api/query", b"{}", fresh=fresh)
        answer.set()
        assert await first == (200, b"{}")
    finally:
        await wire.aclose()
        server.close()
    assert len(heads) == 1


@pytest.mark.parametrize("fresh", [False, True], ids=["pooled", "fresh"])
async def test_a_request_whose_answer_does_not_come_within_the_read_timeout_has_no_answer(fresh):
    heads: list[bytes] = []
    never = asyncio.Event()
    server = await serve_recording(heads, never)
    wire = AiohttpWire(
        f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}",
        {},
        WireLimits(connect_timeout_s=1, read_timeout_s=0.05),
    )
    try:
        with pytest.raises(NoAnswer):
            await wire.request("POST", "/api/mutation", b"{}", fresh=fresh)
    finally:
        await wire.aclose()
        server.close()
    assert len(heads) == 1


def test_only_a_body_aiohttp_could_not_write_to_a_closing_connection_counts_as_not_sent():
    """aiohttp's own words for "the transport was closing, the body never reached the socket";
    any other OS error may have come after Convex read the request."""
    closing = aiohttp.ClientOSError(None, "Can not write request body for http://convex.test/api/mutation")
    closing.__cause__ = ClientConnectionResetError("Cannot write to closing transport")
    reset_while_writing = aiohttp.ClientOSError(104, "Can not write request body for http://convex.test/api/mutation")
    reset_while_writing.__cause__ = ConnectionResetError(104, "Connection reset by peer")
    reset_while_reading = aiohttp.ClientOSError(104, "Connection reset by peer")
    reset_while_reading.__cause__ = ClientConnectionResetError("Connection lost")
    assert _nothing_was_written(closing)
    assert not _nothing_was_written(reset_while_writing)
    assert not _nothing_was_written(reset_while_reading)


# --- the httpx wire (CONVEX_HTTP_CLIENT=httpx): the same limits, on real sockets.


def counting_connections(accepted: list[int], answer_after_s: float = 0) -> Callable[..., Awaitable[None]]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await _read_request(reader)
                await asyncio.sleep(answer_after_s)
                writer.write(ANSWER)
                await writer.drain()

    return serve


async def test_the_httpx_wire_pools_at_most_max_connections_and_drops_them_once_idle():
    """One test for both: an httpx client costs about 0.3 s to build (its TLS context)."""
    accepted: list[int] = []
    server = await asyncio.start_server(counting_connections(accepted, answer_after_s=0.01), "127.0.0.1", 0)
    wire = HttpxWire(
        f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", {}, WireLimits(max_connections=1, idle_timeout_s=0.05)
    )
    try:
        answers = await asyncio.gather(*(wire.request("POST", "/api/query", b"{}") for _ in range(3)))
        assert answers == [(200, b"{}")] * 3 and len(accepted) == 1
        await asyncio.sleep(0.1)
        await wire.request("POST", "/api/query", b"{}")
    finally:
        await wire.aclose()
        server.close()
    assert len(accepted) == 2


async def test_the_httpx_wire_waits_the_connect_timeout_to_connect_and_the_read_timeout_for_an_answer():
    seen: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, content=b"{}")

    wire = HttpxWire(
        "http://convex.test",
        {},
        WireLimits(connect_timeout_s=1.5, read_timeout_s=7),
        transport=httpx.MockTransport(answer),
    )
    try:
        assert await wire.request("POST", "/api/query", b"{}") == (200, b"{}")
    finally:
        await wire.aclose()
    assert seen == [{"connect": 1.5, "read": 7, "write": 7, "pool": 7}]


async def version_call_head(http_client: str, *, trailing_slash: bool = False) -> tuple[str, bytes]:
    """What a gateway on `http_client` answers to `version()`, and the head of the one request it sent."""
    heads: list[bytes] = []
    server = await serve_recording(heads)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}" + ("/" if trailing_slash else "")
    gateway = ConvexGateway(url, "key", http_client=http_client)
    try:
        version = await gateway.version()
    finally:
        await gateway.aclose()
        server.close()
    [head] = heads
    return version, head


@pytest.mark.parametrize(("http_client", "agent"), [("aiohttp", b"aiohttp"), ("httpx", b"python-httpx")])
async def test_the_gateway_talks_through_the_http_client_it_is_configured_with(http_client, agent):
    version, head = await version_call_head(http_client)
    assert version == "{}"
    assert head.startswith(b"get /version ") and agent in head.split(b"\r\nuser-agent: ")[1]


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx"])
async def test_a_convex_url_written_with_a_trailing_slash_is_called_at_its_own_paths(http_client):
    _, head = await version_call_head(http_client, trailing_slash=True)
    assert head.startswith(b"get /version ")


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx"])
async def test_the_gateway_sends_its_admin_key_through_either_http_client(http_client):
    _, head = await version_call_head(http_client)
    assert b"\r\nauthorization: convex key\r\n" in head
