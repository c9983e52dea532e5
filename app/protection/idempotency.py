"""`Idempotency-Key` on unsafe POSTs (IETF draft "The Idempotency-Key HTTP Header Field").

Records live in Convex per client and verified principal (`convex/idempotency.ts`), so a
replay survives a BFF restart and reaches any BFF process:

- a new key is claimed (`in_flight`) before the route runs, with a receipt key from which the
  request's mutations take theirs (`Receipts`; convex/lib/receipts.ts);
- a 2xx answer is stored and the same key with the same request replays it
  (`Idempotent-Replayed: true`);
- an answer that leaves the outcome unknown (504 `outcome_unknown`: the change was sent and
  no answer came back; or an unexpected 500) keeps the key *in doubt*, and the same key's next
  request *resumes* it: it runs again with the first run's receipt keys, so a change that
  committed answers its first result (the first 201, with the first id) and one that did not
  runs now. A key still in flight resumes the same way (its BFF may have died mid-request): no
  lock to wait out, and no key stays in doubt;
- any other answer releases the key, because a refused request changed nothing and may be
  retried as it is;
- the same key with another method, path or body -> 422 `idempotency_key_reused`.

The dependency claims the key (it needs the resolved actor); the middleware stores or
releases it once the answer is known, before the answer leaves, so a client that retries
at once never sees its own first request as still in flight.
"""

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.actor import Actor
from app.auth.dependencies import ClientSlug, current_actor
from app.facts import PATTERNS
from app.gateway.actor_gateway import Receipts
from app.gateway.client import bookkeeping
from app.gateway.errors import MutationOutcomeUnknown
from app.http.problems import FieldError, Problem
from app.http.semantics import OperationRoute
from app.observability import metrics
from app.services import services_in, services_of

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
# A stored answer is replayed verbatim; bigger answers are not kept (ours are small).
MAX_STORED_BODY = 64 * 1024
STATE_KEY = "idempotency"


@dataclass(frozen=True)
class Claim:
    actor: Actor
    key: str
    request_hash: str


class Replay(Exception):
    """The stored answer to send instead of running the route again."""

    def __init__(self, stored: dict[str, Any]) -> None:
        self.stored = stored


def replay_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    stored = exc.stored
    headers = {"Idempotent-Replayed": "true"}
    if stored.get("location"):
        headers["Location"] = stored["location"]
    return Response(
        content=stored["body"], status_code=int(stored["status"]), media_type=stored["contentType"], headers=headers
    )


async def claim_idempotency_key(
    request: Request,
    response: Response,
    client: ClientSlug,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            pattern=PATTERNS["idempotencyKey"],
            description=(
                "Makes this POST safe to retry: the same key with the same request replays the first "
                "successful answer for 24 h (`Idempotent-Replayed: true`); with another request it is 422 "
                "`idempotency_key_reused`. After a lost answer (504 `outcome_unknown`) the same key runs the "
                "request again and its change applies at most once."
            ),
            examples=["3f1c2a9e-5b7d-4c1e-9a8f-0d6b2e4c7a11"],
        ),
    ] = None,
) -> None:
    if idempotency_key is None:
        return
    services = services_of(request)  # not declared: one level of dependency solving less per POST
    actor = await current_actor(request, response, client, services)
    body = await request.body()
    request_hash = hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.encode(), body])).hexdigest()
    outcome = await bookkeeping(
        services.gateway.mutation(
            "idempotency:begin",
            {
                "actor": actor.arg(),
                "key": idempotency_key,
                "requestHash": request_hash,
                "ttlMs": services.settings.idempotency_ttl_s * 1000,
                "requestReceipt": secrets.token_hex(16),
            },
        )
    )
    match outcome["outcome"]:
        case "replay":
            metrics.idempotency_replayed()
            raise Replay(outcome["response"])
        case "mismatch":
            raise Problem(
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request.",
                errors=[FieldError(field=f"header.{HEADER}", message="already used for another request")],
            )
    if outcome["resumed"]:
        # Its first request's answer was lost, or its BFF died: run again with the same receipts.
        log.info("Idempotency-Key resumed: its request runs again with its first receipts")
    request.state.receipts = Receipts(outcome["receipt"])
    request.state.idempotency = Claim(actor=actor, key=idempotency_key, request_hash=request_hash)


class IdempotentPostRoute(OperationRoute):
    """Routes of a router built with this class accept `Idempotency-Key` on POST."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        if "POST" in (kwargs.get("methods") or ()):
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or []), Depends(claim_idempotency_key)]
        super().__init__(path, endpoint, **kwargs)


class IdempotencyMiddleware:
    """Stores (2xx), keeps in doubt (outcome unknown) or releases (refused) a claimed key
    before the answer leaves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        def claim() -> Claim | None:
            found: Claim | None = scope.get("state", {}).get(STATE_KEY)
            return found

        async def hold_if_claimed(message: Message) -> None:
            if claim() is None:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await self._settle(scope, claim(), held)
                for part in held:
                    await send(part)

        try:
            await self.app(scope, receive, hold_if_claimed)
        except BaseException:
            current = claim()
            if current is not None and not held:
                # Whatever failed may have failed after the change was applied.
                await self._settle_call(scope, "idempotency:markInDoubt", current, {})
            raise

    async def _settle(self, scope: Scope, claim: Claim | None, held: list[Message]) -> None:
        assert claim is not None
        start = held[0]
        status = int(start["status"])
        headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        if 200 <= status < 300 and len(body) <= MAX_STORED_BODY:
            stored = {
                "status": status,
                "contentType": headers.get("content-type", "application/json"),
                "body": body.decode(),
            }
            if "location" in headers:
                stored["location"] = headers["location"]
            await self._settle_call(scope, "idempotency:complete", claim, {"response": stored})
        elif 200 <= status < 300 or _outcome_unknown(status, headers, body):
            # Applied but too large to replay, or perhaps applied: either way never run again.
            await self._settle_call(scope, "idempotency:markInDoubt", claim, {})
        else:
            await self._settle_call(scope, "idempotency:release", claim, {})

    @staticmethod
    async def _settle_call(scope: Scope, path: str, claim: Claim, extra: dict[str, Any]) -> None:
        try:
            await services_in(scope).gateway.mutation(
                path, {"actor": claim.actor.arg(), "key": claim.key, "requestHash": claim.request_hash, **extra}
            )
        except Exception:
            # The answer itself stands; the key stays in flight, and its next request resumes it.
            log.warning("could not settle Idempotency-Key claim (%s)", path, exc_info=True)


def _outcome_unknown(status: int, headers: dict[str, str], body: bytes) -> bool:
    if status == 500:
        return True
    if status != 504 or "problem+json" not in headers.get("content-type", ""):
        return False
    try:
        return bool(json.loads(body).get("code") == MutationOutcomeUnknown.code)
    except (ValueError, AttributeError):
        return False
