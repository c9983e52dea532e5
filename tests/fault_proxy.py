"""A fault-injecting HTTP proxy for tests: it sits on 127.0.0.1 in front of a real backend and,
per request, either forwards faithfully or breaks the exchange the way networks and overloaded
services do. Faults are on real sockets, so the BFF's HTTP client meets them as it would in
production (respx covers the same answers one layer up, in tests/unit/gateway/test_gateway.py)."""

import asyncio
import concurrent.futures
import json
import re
import socket
import struct
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import httpx

FAULTS = (
    "pass",  # forward to the backend and answer with its response
    "reset",  # forward (the call really runs), then reset the connection before answering
    "slow",  # forward nothing; answer nothing until the client gives up
    "status_429",  # "Too Many Requests" from the platform in front of Convex
    "status_503",  # "Service Unavailable" from the platform in front of Convex
    "html",  # a load balancer's HTML error page
    "truncated",  # forward, then answer with half of the JSON body (Content-Length matching)
    "error_560",  # Convex's function-error status without errorData
    "write_conflict",  # Convex's own answer to a mutation that kept conflicting (nothing committed)
    "error_page_after",  # forward (the call really runs), then answer with a proxy's HTML 502
    "slow_commit",  # forward (the call really runs), then answer nothing until the client gives up
    "delayed",  # wait `delay_s`, then forward and answer faithfully (a slow but working Convex)
)

# With a late FIN: how long the proxy keeps reading after sending it, to see requests written
# by a client that took the connection from its pool just before the FIN arrived.
FIN_LINGER_S = 0.25

# What Convex answers when a mutation's writes kept conflicting after its own retries
# (convex-backend, crates/errors: ErrorCode::OCC is HTTP 503, short_msg OCC_ERROR).
WRITE_CONFLICT = json.dumps(
    {
        "code": "OptimisticConcurrencyControlFailure",
        "message": 'Documents read from or written to the "supportTickets" table changed while this mutation '
        "was being run and on every subsequent retry. See https://docs.convex.dev/error#1",
    }
).encode()


@dataclass
class FaultProxy:
    backend_url: str
    fault: str = "pass"
    url: str = ""
    # The fault applies to this Convex API path only ("/api/mutation"); None: to every path.
    only_path: str | None = None
    # ... and to this Convex function only ("tickets:open"); None: to every function.
    only_function: str | None = None
    # ... for this many matching requests, then every request passes; None: until changed.
    times: int | None = None
    # Close a client's connection once it has been idle this long, without warning (no
    # `Connection: close`), as Node and load balancers do; None: keep it open.
    idle_close_s: float | None = None
    # With `idle_close_s`: how late the close reaches the client, as a load balancer's FIN
    # does (see `_close_idle`); 0: at once.
    late_fin_s: float = 0.0
    # Connections closed for being idle; the requests written into them while their close was
    # on its way (lost unread), and, with `late_fin_s`, just after their FIN was sent (a client
    # that took the connection from its pool before the FIN arrived), by "<kind> <function>"
    # ("mutation tickets:open"; what the bytes that came name).
    idle_closes: int = 0
    written_while_closing: Counter[str] = field(default_factory=Counter)
    written_after_fin: Counter[str] = field(default_factory=Counter)
    # Requests seen per Convex API path, whatever the fault.
    seen: Counter = field(default_factory=Counter)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    connections_opened: int = 0
    # The wait of "delayed".
    delay_s: float = 2.0

    def inject(
        self, fault: str, only_path: str | None = None, *, only_function: str | None = None, times: int | None = None
    ) -> None:
        assert fault in FAULTS, fault
        self.fault, self.only_path, self.only_function, self.times = fault, only_path, only_function, times
        self.seen.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_opened += 1
        async with httpx.AsyncClient(base_url=self.backend_url) as backend:
            try:
                while True:
                    try:
                        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.idle_close_s)
                    except TimeoutError:
                        await self._close_idle(reader, writer)
                        return
                    method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                    headers = dict(
                        line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line
                    )
                    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
                    body = await reader.readexactly(length)
                    self.seen[path] += 1
                    self.seen[_function_of(body)] += 1
                    if not await self._answer(backend, writer, method, path, headers, body):
                        return
            except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
                pass
            finally:
                writer.close()

    async def _close_idle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Close a connection idle for `idle_close_s`, its FIN reaching the client `late_fin_s` later.

        A load balancer closes an idle client connection on its own timer, and the client learns
        of it only when the FIN arrives: a moment later on the wire, or much later when the
        balancer's side of the close is slow (a drain, a busy proxy, a NAT in between). Until then
        the client's pool holds a connection that looks idle and sound (nothing to read, so no
        check before reuse can tell), and a request written into it goes to a peer that has
        stopped reading: the balancer drops it unread and, its socket closed, answers the bytes
        with a reset. So here: from the idle timeout on, the proxy reads and forwards nothing
        for `late_fin_s`, then closes; a request that arrived in that window was never forwarded
        (nothing ran), is counted in `written_while_closing`, and its connection is reset
        (SO_LINGER 0, as a closed socket answers data), else closed with a FIN.

        With `late_fin_s`, that FIN closes the proxy's sending side only, for FIN_LINGER_S: a
        request written by a client that took the connection from its pool just before the FIN
        arrived is then seen (`written_after_fin`) rather than refused unseen by the kernel; it is
        reset all the same, as a closed socket would."""
        self.idle_closes += 1
        if self.late_fin_s > 0:
            writer.transport.pause_reading()  # type: ignore[attr-defined]  # (a selector transport)
            await asyncio.sleep(self.late_fin_s)
        unread = bytes(reader._buffer) + _peek(writer)  # type: ignore[attr-defined]  # arrived, not read
        if unread:
            self.written_while_closing[_request_named(unread)] += 1
            _reset(writer)
            return
        if self.late_fin_s <= 0:
            writer.close()
            return
        writer.write_eof()
        await asyncio.sleep(FIN_LINGER_S)
        unread = _peek(writer)
        if unread:
            self.written_after_fin[_request_named(unread)] += 1
            _reset(writer)
        else:
            writer.close()

    async def _answer(self, backend, writer, method, path, headers, body) -> bool:
        """Write the answer for the current fault; False when the connection must end."""
        fault = (
            self.fault
            if self.only_path in (None, path) and self.only_function in (None, _function_of(body))
            else "pass"
        )
        if fault != "pass" and self.times is not None:
            fault, self.times = (fault, self.times - 1) if self.times > 0 else ("pass", 0)
        if fault == "slow":
            await self.stopped.wait()
            return False
        if fault.startswith("status_"):
            return await _respond(writer, int(fault.removeprefix("status_")), b"busy, try later", "text/plain")
        if fault == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return await _respond(writer, 502, page, "text/html")
        if fault == "write_conflict":
            return await _respond(writer, 503, WRITE_CONFLICT)
        if fault == "error_560":
            return await _respond(writer, 560, b'{"status":"error","errorMessage":"Server Error","logLines":[]}')
        if fault == "delayed":
            await asyncio.sleep(self.delay_s)
        forwarded = {
            k: v for k, v in headers.items() if k.lower() in ("authorization", "content-type", "convex-client")
        }
        response = await backend.request(method, path, content=body, headers=forwarded)
        if fault == "reset":
            # SO_LINGER 0: close() sends RST, as a crashed peer or a dropped NAT entry would.
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if fault == "slow_commit":
            await self.stopped.wait()
            return False
        if fault == "error_page_after":
            return await _respond(writer, 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        if fault == "truncated":
            half = response.content[: len(response.content) // 2]
            return await _respond(writer, 200, half)
        return await _respond(writer, response.status_code, response.content)


def _peek(writer: asyncio.StreamWriter) -> bytes:
    """What waits unread in the connection's socket, left there (MSG_PEEK, on a duplicate)."""
    sock = writer.get_extra_info("socket")
    if sock is None:
        return b""
    try:
        with socket.socket(fileno=socket.dup(sock.fileno())) as dup:
            return dup.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, OSError):
        return b""


def _request_named(request: bytes) -> str:
    """What a (perhaps partial) request names: "<kind> <function>" ("mutation tickets:open"), as far as it came."""
    kind = re.match(rb"[A-Z]+ /api/(\w+)", request)
    function = re.search(rb'"path"\s*:\s*"([^"]*)"', request)
    return (
        " ".join(found.group(1).decode(errors="replace") for found in (kind, function) if found is not None)
        or "(unnamed)"
    )


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (SO_LINGER 0), as a closed socket answers data sent to it."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _function_of(body: bytes) -> str:
    try:
        return str(json.loads(body).get("path"))
    except (ValueError, AttributeError):
        return ""


async def _respond(
    writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str = "application/json"
) -> bool:
    head = f"HTTP/1.1 {status} Fault\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    return True


@asynccontextmanager
async def fault_proxy(backend_url: str) -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy(backend_url)
    server = await asyncio.start_server(proxy._handle, "127.0.0.1", 0)
    proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield proxy
    finally:
        proxy.stopped.set()  # releases the connections held by "slow"
        server.close()
        await server.wait_closed()


@contextmanager
def fault_proxy_in_thread(
    backend_url: str, *, idle_close_s: float | None = None, late_fin_s: float = 0.0
) -> Iterator[FaultProxy]:
    """The proxy on an event loop of its own, so it closes connections on time even while the
    BFF's event loop is blocked (as a busy BFF's is). `late_fin_s`: see `FaultProxy._close_idle`."""
    loop = asyncio.new_event_loop()
    ready: concurrent.futures.Future[FaultProxy] = concurrent.futures.Future()
    stop = asyncio.Event()  # set from this thread through the loop: asyncio objects are not thread-safe

    async def serve() -> None:
        async with fault_proxy(backend_url) as proxy:
            proxy.idle_close_s, proxy.late_fin_s = idle_close_s, late_fin_s
            ready.set_result(proxy)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=10)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()
