"""The aiohttp wire on real sockets: a pooled connection that its peer has closed is never
written on. A peer (Node, a load balancer) closes idle connections without warning; when the
BFF's event loop is busy, aiohttp has not yet seen the close when it hands the connection out.
The peer here runs in its own thread, so it can close while the test blocks the event loop."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import aiohttp
import pytest

from app.gateway.wire import AiohttpWire, NotSent, WireLimits, _FreshConnector

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
