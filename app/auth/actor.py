"""The actor: principal + the client in the path -> {clientId, role, user or key}.

Resolved through Convex (`identity:resolveActor`) and kept in a small, short-lived
in-process cache (docs/architecture.md, decision 8): a revoked key or removed membership
stops working here within `actor_cache_ttl_s`, and Convex re-checks every call.
"""

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from fastapi import Request

from app.auth.capabilities import role_can
from app.auth.principal import Principal, unknown_api_key
from app.facts import PATTERNS
from app.gateway.client import ConvexGateway
from app.http.problems import FieldError, Problem
from app.observability import metrics
from app.protection.source_limit import SourceGuard
from app.services import Services

CLIENT_SLUG: str = PATTERNS["clientSlug"]


@dataclass(frozen=True)
class Actor:
    clientId: str
    role: str
    userId: str | None = None
    apiKeyId: str | None = None

    def arg(self) -> dict[str, Any]:
        """The `actor` argument every client-scoped Convex function takes."""
        actor: dict[str, Any] = {"clientId": self.clientId, "role": self.role}
        if self.userId is not None:
            actor["userId"] = self.userId
        if self.apiKeyId is not None:
            actor["apiKeyId"] = self.apiKeyId
        return actor


class ActorResolver:
    def __init__(self, gateway: ConvexGateway, ttl_s: float, max_entries: int = 10_000) -> None:
        self._gateway = gateway
        self._cache: TTLCache[tuple[str, str], Actor | None] = TTLCache(max_entries, ttl_s)
        self._owners: TTLCache[tuple[str, str], dict[str, Any] | None] = TTLCache(max_entries, ttl_s)
        self._lookups: dict[tuple[str, str], asyncio.Future[Actor | None]] = {}

    async def resolve(
        self, principal: Principal, client_slug: str, before_lookup: Callable[[], None] | None = None
    ) -> Actor | None:
        """The actor from the cache, or from Convex after `before_lookup` (which may refuse)."""
        key = (principal.cache_key, client_slug)
        cached = key in self._cache
        metrics.actor_cache(hit=cached)
        if cached:
            return self._cache[key]
        pending = self._lookups.get(key)
        if pending is not None:
            # A burst of one principal's first requests asks Convex once, and spends one look-up
            # of its budget (shielded: a waiter that goes away does not cancel the others' answer).
            return await asyncio.shield(pending)
        if before_lookup is not None:
            before_lookup()
        lookup = self._lookups[key] = asyncio.get_running_loop().create_future()
        try:
            actor = await self._look_up(principal, client_slug)
        except BaseException as exc:
            lookup.set_exception(exc)
            lookup.exception()  # the waiters, if any, get it; none is not an unretrieved error
            raise
        else:
            self._cache[key] = actor
            lookup.set_result(actor)
            return actor
        finally:
            del self._lookups[key]

    async def _look_up(self, principal: Principal, client_slug: str) -> Actor | None:
        args: dict[str, Any] = {"clientSlug": client_slug}
        if principal.kind == "user":
            args["authSubject"] = principal.subject
        else:
            args["apiKeyHash"] = principal.api_key_hash
        found = await self._gateway.query("identity:resolveActor", args)
        return None if found is None else Actor(**{k: found.get(k) for k in Actor.__dataclass_fields__})

    async def api_key_principal(self, principal: Principal) -> dict[str, Any] | None:
        """The client and role of an active API key; None for an unknown or revoked one. Asked by
        `/v1/me`, and when no actor was found, to tell a dead key (401) from another client's
        (404); remembered as long as an actor, so a key with no actor here costs one call."""
        key = (principal.cache_key, "")
        if key in self._owners:
            return self._owners[key]
        found: dict[str, Any] | None = await self._gateway.query(
            "identity:apiKeyPrincipal", {"apiKeyHash": principal.api_key_hash}
        )
        self._owners[key] = found
        return found


def client_not_found(slug: str) -> Problem:
    # A client the principal does not belong to reads exactly like one that does not exist.
    return Problem("not_found", f"client {slug} not found")


async def api_key_owner(request: Request, services: Services, principal: Principal) -> dict[str, Any]:
    """The client and role of an API key Convex knows, or 401 (a failure of its source, and the
    key remembered as unknown). Its source must be within its failure budget to ask Convex."""
    services.source_guard.refuse_if_over_budget(request.state.source)
    found = await services.actor_resolver.api_key_principal(principal)
    if found is None:
        raise refuse_unknown_key(request, services.source_guard, principal)
    return found


def refuse_unknown_key(request: Request, guard: SourceGuard, principal: Principal) -> Problem:
    """401 for an API key Convex does not know: remembered as unknown, a failure of its source."""
    guard.remember_unknown_key(principal.cache_key)
    return guard.failed(request.state.source, unknown_api_key())


async def resolve_or_refuse(request: Request, services: Services, principal: Principal, client: str) -> Actor:
    """The actor, or 401 for a dead API key, or 404 for a client the principal is not in.

    A look-up in Convex is budgeted per principal, and an API key not already known is looked
    up only while its source is within its failure budget (app/protection/source_limit.py)."""
    resolver, guard = services.actor_resolver, services.source_guard
    source: str = request.state.source

    def before_lookup() -> None:
        guard.spend_lookup(principal.cache_key)
        if principal.kind == "api_key":
            guard.refuse_if_over_budget(source)

    actor = await resolver.resolve(principal, client, before_lookup)
    if actor is None:
        if principal.kind == "api_key" and await resolver.api_key_principal(principal) is None:
            raise refuse_unknown_key(request, guard, principal)
        raise client_not_found(client)
    return actor


def check_client_slug(client: str) -> None:
    """404 for a slug no client can have, before anything is looked up."""
    if not re.fullmatch(CLIENT_SLUG, client):
        raise client_not_found(client)


def require_capability(actor: Actor, *capabilities: str) -> None:
    """403 naming the capability unless the actor's role holds one of `capabilities`."""
    if not any(role_can(actor.role, name) for name in capabilities):
        wanted = " or ".join(capabilities)
        raise Problem(
            "forbidden", f"Your role ({actor.role}) lacks the capability {wanted}.", extra={"capability": wanted}
        )


def acting_for(actor: Actor, member_id: str | None, self_capability: str, member_capability: str) -> bool:
    """Routes that act for the caller itself or, given a memberId, for a member.

    Returns True to act for the named member. Staff who leave memberId out get a 422 naming
    the field (they hold the on-behalf capability, not the self one); others a 403.
    """
    if member_id is not None:
        require_capability(actor, member_capability)
        return True
    if not role_can(actor.role, self_capability) and role_can(actor.role, member_capability):
        raise Problem(
            "validation",
            "Name the member to act for: your role acts on members' behalf.",
            errors=[FieldError(field="body.memberId", message="required for your role")],
        )
    require_capability(actor, self_capability)
    return False
