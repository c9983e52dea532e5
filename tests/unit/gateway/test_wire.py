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
from collections.abc import Iterator

import aiohttp
import pytest

from app.gateway.wire import AiohttpWire, Broken, NoAnswer, NotSent, WireLimits, _FreshConnector

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
            with pytest.raises(NotSent):
                await wire.request("POST", "/api/mutation", b"{}")
        finally:
            await wire.aclose()


# --- how each failure is classified (app/gateway/wire.py): NotSent only when no whole request
# can have reached the peer, since the gateway resends an action only then.


async def test_a_request_onto_a_connection_found_closed_is_not_sent_and_never_reaches_the_peer(peer):
    """aiohttp's own pool (without the wire's check) hands out the connections the peer closed:
    each such request fails as NotSent, and the peer received none of them."""
    wire = AiohttpWire(peer.url, {}, WireLimits(read_timeout_s=2))
    await wire._session.close()
    wire._session = aiohttp.ClientSession(timeout=wire._fresh.timeout, connector=aiohttp.TCPConnector(limit=100))
    outcomes: list[str] = []

    async def call() -> None:
        try:
            await wire.request("POST", "/api/query", b'{"path":"x:y","args":{}}')
            outcomes.append("answered")
        except (NotSent, NoAnswer, Broken) as exc:
            outcomes.append(type(exc).__name__)

    try:
        await asyncio.gather(*(call() for _ in range(20)))
        peer.close_idle_connections()
        time.sleep(0.2)  # noqa: ASYNC251  the event loop must not see the closes before the next burst
        await asyncio.gather(*(call() for _ in range(20)))
    finally:
        await wire.aclose()
    assert outcomes.count("answered") == 20 and outcomes.count("NotSent") == 20
    assert peer.requests == 20  # the first burst's: nothing of the second reached it


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
        with pytest.raises(raised):
            await wire.request("POST", "/api/mutation", b'{"path":"x:y","args":{}}')
    finally:
        await wire.aclose()
        server.close()
    assert len(arrived) == 1 and arrived[0].endswith(b'{"path":"x:y","args":{}}')


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
