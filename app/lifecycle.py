"""Where this process is in its life, as its load balancer must see it (docs/deploy.md).

`app.serve` moves it on SIGTERM: first *draining* (`/ready` answers 503 so the load balancer
stops sending new requests, while every request still arriving is served as usual), then, once
the drain period has passed, *stopping*: live streams end with a reconnect hint and the server
stops accepting connections, finishing the requests it holds.
"""

import asyncio

# The reconnection delay an ending live stream asks of its client (the SSE `retry:` field), in ms:
# long enough for the load balancer to have taken this process out, short enough to lose little.
RECONNECT_AFTER_MS = 1000


class Lifecycle:
    def __init__(self) -> None:
        self.draining = False
        self._streams_end = asyncio.Event()

    def drain(self) -> None:
        """Refuse readiness from now on; keep serving."""
        self.draining = True

    def end_streams(self) -> None:
        """Tell every live stream to end with its reconnect hint (the process is about to stop)."""
        self.draining = True
        self._streams_end.set()

    async def streams_end(self) -> None:
        """Returns when live streams must end."""
        await self._streams_end.wait()
