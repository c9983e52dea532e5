"""One official `ConvexClient` per BFF process, shared by every live stream (docs/live-updates.md).

The client speaks Convex's WebSocket sync protocol: each stream adds a query subscription
to the one connection, and Convex pushes a new result whenever the data the query read
changes. The client's calls block, so they run in worker threads; waiting for the next
result uses the client's own awaitable, so a held stream costs no thread.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Literal

from convex import ConvexClient, ConvexError, QuerySubscription

from app.gateway.errors import UpstreamUnavailable
from app.http.problems import Problem
from app.observability import metrics

log = logging.getLogger(__name__)


class LiveHub:
    def __init__(
        self, convex_url: str, admin_key: str, *, max_streams_per_principal: int, first_result_timeout_s: float
    ) -> None:
        self._url = convex_url
        self._admin_key = admin_key
        self._max_streams = max_streams_per_principal
        # The official client retries a lost connection forever; a stream that cannot get its
        # first result in time answers 504 instead of hanging.
        self.first_result_timeout_s = first_result_timeout_s
        self._client: ConvexClient | None = None
        self._connecting = asyncio.Lock()
        self._open_streams: Counter[str] = Counter()

    async def client(self) -> ConvexClient:
        """Connect on first use, so a BFF that serves no stream never opens a WebSocket."""
        async with self._connecting:
            if self._client is None:
                client = await asyncio.to_thread(ConvexClient, self._url)
                await asyncio.to_thread(client.set_admin_auth, self._admin_key)
                self._client = client
        return self._client

    def close(self) -> None:
        # Dropping the client closes its WebSocket (the Rust side owns the connection).
        self._client = None

    @property
    def connection(self) -> Literal["idle", "unknown"]:
        """`idle` until the first stream (no WebSocket opened yet); then `unknown`: the official
        client reconnects on its own and does not say whether it is connected right now."""
        return "idle" if self._client is None else "unknown"

    @property
    def open_streams(self) -> int:
        return sum(self._open_streams.values())

    def lease(self, principal_key: str) -> "StreamLease":
        """Take one of the principal's stream slots; 429 when all are taken."""
        if self._open_streams[principal_key] >= self._max_streams:
            raise Problem(
                "too_many_streams",
                f"At most {self._max_streams} live streams per principal; close one first.",
                headers={"Retry-After": "5"},
            )
        self._open_streams[principal_key] += 1
        metrics.live_stream_opened()
        return StreamLease(self, principal_key)

    def _give_back(self, principal_key: str) -> None:
        metrics.live_stream_closed()
        self._open_streams[principal_key] -= 1
        if self._open_streams[principal_key] <= 0:
            del self._open_streams[principal_key]

    async def watch(self, path: str, args: dict[str, Any]) -> AsyncGenerator[Any, None]:
        """Each result of the query, first the current one, then one per change.

        A ConvexError (access lost, the document gone) ends the iteration by raising.
        """
        client = await self.client()
        try:
            subscription = await asyncio.to_thread(client.subscribe, path, args)
        except ConvexError:
            raise
        except Exception as exc:
            raise self._lost(client, exc) from exc
        try:
            async for value in subscription:
                yield value
        except ConvexError:
            raise
        except Exception as exc:
            raise self._lost(client, exc) from exc
        finally:
            await asyncio.to_thread(_unsubscribe, subscription)

    def _lost(self, client: ConvexClient, exc: Exception) -> UpstreamUnavailable:
        """The official client failed outside Convex's own errors ("channel closed": its
        connection worker is gone, and every later call would fail the same): let it go, so the
        next stream connects afresh, and answer this one as Convex unreachable."""
        log.warning("the live-updates client failed (%s): reconnecting on the next stream", exc)
        if self._client is client:
            self._client = None
        return UpstreamUnavailable(f"live updates failed: {exc}")


class StreamLease:
    """A stream's slot and the subscriptions it holds; closing it more than once is harmless,
    so both the stream's own end and the response's background task may close it."""

    def __init__(self, hub: LiveHub, principal_key: str) -> None:
        self._hub = hub
        self._principal_key = principal_key
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self._closed = False

    def on_close(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        self._cleanups.append(cleanup)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._hub._give_back(self._principal_key)
        for cleanup in self._cleanups:
            try:
                await cleanup()
            except Exception:
                log.warning("closing a live subscription failed", exc_info=True)


def _unsubscribe(subscription: QuerySubscription) -> None:
    # A wait cancelled while pending (the browser left) already dropped the Rust-side
    # subscription; `unsubscribe()` would subscribe again just to remove it.
    if subscription.inner.exists():
        subscription.unsubscribe()
    subscription.invalidated = True
