"""The delivery worker: sends the webhook deliveries Convex holds, at least once.

Each BFF process runs one (WEBHOOK_WORKER_ENABLED). It asks Convex when the next delivery is due
(`webhooks:nextDueAt`, a cached query, so an idle worker costs next to nothing), leases a batch
(`webhooks:claimDue`: each delivery to one worker at a time, at most a few per endpoint), POSTs
each, and reports the answer (`webhooks:recordAttempt`), which ends the delivery or schedules its
retry. A worker that dies mid-attempt loses its lease after `leaseSeconds` and another one sends
the delivery again, so receivers deduplicate by `webhook-id` (docs/webhooks.md).

Why here and not in a Convex action: the BFF checks every address a delivery connects to at
connect time (app/webhooks/targets.py; a Convex action cannot see what a name resolves to), keeps
the signing secrets' key out of the data store, and has the metrics and request-id logs the rest
of the API has.
"""

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp
from asgi_correlation_id import correlation_id

from app.gateway.client import ConvexGateway
from app.observability.metrics import observe_webhook_attempt
from app.sessions.crypto import SealedDataInvalid
from app.webhooks.schemas import DELIVERY, PAYLOADS
from app.webhooks.signing import SecretBox, signed_headers
from app.webhooks.targets import PublicOnlyResolver, RefusedTarget, TargetPolicy

log = logging.getLogger("app.webhooks")

USER_AGENT = "member-platform-webhooks/1"
MIN_IDLE_S = 0.05


def payload_body(event: dict[str, Any]) -> str:
    """The body of a delivery: the event as the OpenAPI document's `webhooks` section declares it."""
    return PAYLOADS[event["type"]].model_validate(event).model_dump_json()


class DeliveryWorker:
    def __init__(
        self,
        gateway: ConvexGateway,
        secrets: SecretBox,
        targets: TargetPolicy,
        *,
        batch_size: int,
        poll_interval_s: float,
        attempt_timeout_s: float = DELIVERY["attemptTimeoutSeconds"],
    ) -> None:
        self._gateway = gateway
        self._secrets = secrets
        self._targets = targets
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._attempt_timeout_s = attempt_timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-delivery-worker")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # A connection per attempt: a receiver's server closes idle connections when it likes
            # (uvicorn after 5 s), and an attempt written onto one being closed fails and waits for
            # its retry; deliveries to one receiver are too sparse for reuse to pay.
            connector = aiohttp.TCPConnector(
                resolver=PublicOnlyResolver(self._targets), limit=self._batch_size * 2, force_close=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._attempt_timeout_s),
                headers={"User-Agent": USER_AGENT},
                trust_env=False,  # no proxy from the environment: the address checks are the worker's own
            )
        return self._session

    async def _run(self) -> None:
        while True:
            try:
                delivered = await self.run_once()
                if delivered == 0:
                    await asyncio.sleep(await self._idle_time())
            except asyncio.CancelledError:
                raise
            except Exception:  # Convex unreachable or an unexpected answer: try again after a pause
                log.exception("webhook delivery round failed")
                await asyncio.sleep(self._poll_interval_s * 4)

    async def _idle_time(self) -> float:
        due = await self._gateway.query("webhooks:nextDueAt", {})
        if due is None:
            return self._poll_interval_s
        # At least a moment: what is due may be waiting for its endpoint's deliveries in flight
        # (another process's), and asking again at once would only spin.
        return min(self._poll_interval_s, max(MIN_IDLE_S, float(due) / 1000 - time.time()))

    async def run_once(self) -> int:
        """Lease one batch of due deliveries and attempt each; how many were attempted."""
        claimed: list[dict[str, Any]] = await self._gateway.mutation("webhooks:claimDue", {"limit": self._batch_size})
        await asyncio.gather(*(self._attempt(delivery) for delivery in claimed))
        return len(claimed)

    async def _attempt(self, delivery: dict[str, Any]) -> None:
        event = delivery["event"]
        token = correlation_id.set(delivery.get("requestId") or event["id"])
        try:
            started = time.perf_counter()
            try:
                result = await self._send(delivery)
            except Exception as failed:  # a fault of the worker's own: reported, so the delivery is retried
                log.exception("webhook attempt failed inside the worker")
                result = {"error": f"internal error: {type(failed).__name__}"}
            # Cancelled (the process stopping): not reported; the lease runs out and the delivery is sent again.
            duration = time.perf_counter() - started
            report = await self._gateway.mutation(
                "webhooks:recordAttempt",
                {
                    "deliveryId": delivery["deliveryId"],
                    "attempt": delivery["attempt"],
                    "durationMs": round(duration * 1000),
                    **result,
                },
            )
            outcome = report["outcome"]
            delay = time.time() - event["createdAt"] / 1000 if outcome == "delivered" else None
            observe_webhook_attempt(event["type"], outcome, duration, delay)
            log.info(
                "webhook %s %s to %s, attempt %d: %s (%s)",
                event["type"],
                event["id"],
                delivery["url"],
                delivery["attempt"],
                outcome,
                result.get("status", result.get("error")),
            )
            if report.get("disabled"):
                log.warning("webhook endpoint for %s disabled: %s", delivery["url"], report["disabled"])
        finally:
            correlation_id.reset(token)

    async def _send(self, delivery: dict[str, Any]) -> dict[str, Any]:
        """One POST: its status and the start of its body, or why there was none."""
        event = delivery["event"]
        try:
            self._targets.check_url(delivery["url"])
            secrets = [self._secrets.open(sealed, delivery["clientId"]) for sealed in delivery["secrets"]]
            body = payload_body(event)
            headers = signed_headers(event["id"], body, secrets)
            async with self._http().post(
                delivery["url"], data=body.encode(), headers=headers, allow_redirects=False
            ) as response:
                start = await response.content.read(DELIVERY["responseBodyBytes"])
                return {"status": response.status, "responseBody": start.decode("utf-8", "replace")}
        except RefusedTarget as refused:
            return {"error": f"refused target: {refused}"}
        except SealedDataInvalid:
            return {"error": "signing secret unreadable (WEBHOOK_ENCRYPTION_KEY changed?)"}
        except TimeoutError:
            return {"error": "timeout"}
        except aiohttp.ClientConnectorError as failed:
            cause = failed.os_error
            return {
                "error": f"connection failed: {cause if isinstance(cause, RefusedTarget) else type(cause).__name__}"
            }
        except aiohttp.ClientError as failed:
            return {"error": f"{type(failed).__name__}"}
