"""A fault-injecting HTTP proxy for tests: it sits on 127.0.0.1 in front of a real backend and,
per request, either forwards faithfully or breaks the exchange the way networks and overloaded
services do. Faults are on real sockets, so the BFF's HTTP client meets them as it would in
production (respx covers the same answers one layer up, in tests/unit/test_gateway.py)."""

import asyncio
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
)


@dataclass
class FaultProxy:
    backend_url: str
    fault: str = "pass"
    url: str = ""
    # The fault applies to this Convex API path only ("/api/mutation"); None: to every path.
    only_path: str | None = None
    # Requests seen per Convex API path, whatever the fault.
    seen: Counter = field(default_factory=Counter)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    def inject(self, fault: str, only_path: str | None = None) -> None:
        assert fault in FAULTS, fault
        self.fault, self.only_path = fault, only_path
        self.seen.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with httpx.AsyncClient(base_url=self.backend_url) as backend:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                    headers = dict(
                        line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line
                    )
                    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
                    body = await reader.readexactly(length)
                    self.seen[path] += 1
                    if not await self._answer(backend, writer, method, path, headers, body):
                        return
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

    async def _answer(self, backend, writer, method, path, headers, body) -> bool:
        """Write the answer for the current fault; False when the connection must end."""
        fault = self.fault if self.only_path in (None, path) else "pass"
        if fault == "slow":
            await self.stopped.wait()
            return False
        if fault.startswith("status_"):
            return await _respond(writer, int(fault.removeprefix("status_")), b"busy, try later", "text/plain")
        if fault == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return await _respond(writer, 502, page, "text/html")
        if fault == "error_560":
            return await _respond(writer, 560, b'{"status":"error","errorMessage":"Server Error","logLines":[]}')
        forwarded = {k: v for k, v in headers.items() if k.lower() in ("authorization", "content-type", "convex-client")}
        response = await backend.request(method, path, content=body, headers=forwarded)
        if fault == "reset":
            # SO_LINGER 0: close() sends RST, as a crashed peer or a dropped NAT entry would.
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if fault == "truncated":
            half = response.content[: len(response.content) // 2]
            return await _respond(writer, 200, half)
        return await _respond(writer, response.status_code, response.content)


async def _respond(writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str = "application/json") -> bool:
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
