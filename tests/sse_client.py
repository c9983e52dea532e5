"""Read a Server-Sent Events stream straight from the ASGI app, event by event.

httpx's ASGITransport returns only once a response has ended, and a live stream does not
end, so the tests drive the app's ASGI interface themselves: send the request, read body
chunks as they come, parse events, and disconnect when done.
"""

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Event:
    event: str = "message"
    data: str = ""
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Stream:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    events: "asyncio.Queue[Event | None]" = field(default_factory=asyncio.Queue)
    body: bytes = b""
    comments: int = 0

    async def next_event(self, timeout: float = 5.0) -> Event | None:  # noqa: ASYNC109  a test helper's own bound
        """The next event, or None once the stream has ended."""
        return await asyncio.wait_for(self.events.get(), timeout)

    async def no_event_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.events.get(), seconds)
        except TimeoutError:
            return True
        return False


def get_scope(url: str, headers: Mapping[str, str], host: str = "bff.test") -> dict[str, Any]:
    """The ASGI scope of a GET of `url` (path and query string) with `headers`, as a server hands it to the app."""
    path, _, query = url.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": host, **headers}.items()],
        "client": ("127.0.0.1", 50000),
        "server": (host, 80),
        "state": {},
    }


class open_sse:
    """`async with open_sse(app, url, headers) as stream:` -- disconnects on exit."""

    def __init__(self, app: Any, url: str, headers: Mapping[str, str] | None = None) -> None:
        self.app, self.url, self.headers = app, url, dict(headers or {})
        self.stream = Stream()
        self._disconnect = asyncio.Event()
        self._started = asyncio.Event()

    async def __aenter__(self) -> Stream:
        scope = get_scope(self.url, {"accept": "text/event-stream", **self.headers})
        sent_request = False

        async def receive() -> dict:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._disconnect.wait()
            return {"type": "http.disconnect"}

        buffer = b""

        async def send(message: dict) -> None:
            nonlocal buffer
            if message["type"] == "http.response.start":
                self.stream.status = message["status"]
                self.stream.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
                self._started.set()
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                self.stream.body += chunk
                buffer += chunk.replace(b"\r\n", b"\n")
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    self._parse(block.decode())

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            finally:
                self._started.set()
                await self.stream.events.put(None)

        self._task = asyncio.create_task(run())
        await asyncio.wait_for(self._started.wait(), 10)
        return self.stream

    def _parse(self, block: str) -> None:
        event, data, comment_only = Event(), [], True
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            comment_only = False
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event.event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                event.id = value
        if comment_only:
            self.stream.comments += 1
            return
        event.data = "\n".join(data)
        self.stream.events.put_nowait(event)

    async def __aexit__(self, *exc: object) -> None:
        self._disconnect.set()
        try:
            await asyncio.wait_for(self._task, 10)
        except TimeoutError:
            self._task.cancel()
