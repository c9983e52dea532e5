"""Anonymous and failing traffic costs Convex nothing at scale (docs/security.md, "Limits").

Requests without valid credentials and authentication failures are counted per source in
this process, before any Convex call; a source over its budget is answered 429 at once. An
API key cannot be checked without Convex, so unknown keys are remembered briefly (a bounded
negative cache), and a key that is not already known is looked up only while its source is
within budget. Actor look-ups (a cache miss: a principal trying a client slug it has not used
lately) are budgeted per principal, so probing slugs is limited too.

The counters are per process on purpose: they guard this process's calls to Convex, they
cost no Convex call themselves, and an attacker spread over N processes gets N budgets,
still a small constant. The source is the peer's address, or the client address a trusted
proxy (TRUSTED_PROXIES) put in the header it writes (FORWARDED_HEADER).
"""

import math
import time
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from cachetools import TTLCache
from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app.http.problems import Problem
from app.observability import metrics
from app.settings import Settings

IPAddress = IPv4Address | IPv6Address


class SourceGuard:
    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._failures: RateLimitItem = RateLimitItemPerMinute(settings.auth_failures_per_minute_per_source)
        self._lookups: RateLimitItem = RateLimitItemPerMinute(settings.actor_lookups_per_minute_per_principal)
        self._sign_ins: RateLimitItem = RateLimitItemPerMinute(settings.sign_ins_per_minute_per_source)
        self._unknown_keys: TTLCache[str, bool] = TTLCache(maxsize=100_000, ttl=settings.unknown_api_key_ttl_s)
        self._trusted = [ip_network(cidr, strict=False) for cidr in settings.trusted_proxies]
        self._header = settings.forwarded_header

    # -- where a request comes from ---------------------------------------------------------

    def source_of(self, request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not self._is_trusted(peer):
            return peer
        # Walk the proxies' list from the right: the first address no trusted proxy added is
        # the client's (anything left of it was written by the client and proves nothing).
        for hop in reversed(_forwarded_for(request, self._header)):
            if not self._is_trusted(hop):
                return hop
        return peer

    def _is_trusted(self, address: str) -> bool:
        parsed = _parse_ip(address)
        return parsed is not None and any(parsed in network for network in self._trusted)

    # -- authentication failures per source -----------------------------------------------

    def refuse_if_over_budget(self, source: str) -> None:
        """429 when this source failed authentication too often in the last minute."""
        if not self._limiter.test(self._failures, "failures", source):
            raise self._over_budget(source)

    def failed(self, source: str, problem: Problem) -> Problem:
        """Count a failure of `source` and give the problem to answer: `problem`, or 429 once the
        source is over its budget (then the failure is not counted)."""
        if not self._limiter.hit(self._failures, "failures", source):
            raise self._over_budget(source)
        return problem

    def _over_budget(self, source: str) -> Problem:
        return _too_many(self._limiter.get_window_stats(self._failures, "failures", source).reset_time, "source")

    # -- API keys Convex did not know ------------------------------------------------------

    def is_unknown_key(self, api_key_hash: str) -> bool:
        return api_key_hash in self._unknown_keys

    def remember_unknown_key(self, api_key_hash: str) -> None:
        self._unknown_keys[api_key_hash] = True

    # -- actor look-ups per principal ------------------------------------------------------

    def spend_lookup(self, principal_key: str) -> None:
        """One actor look-up in Convex for this principal; 429 beyond its budget."""
        if not self._limiter.hit(self._lookups, "lookups", principal_key):
            reset_at = self._limiter.get_window_stats(self._lookups, "lookups", principal_key).reset_time
            raise _too_many(reset_at, "lookup")

    # -- sign-ins started per source -------------------------------------------------------

    def spend_sign_in(self, source: str) -> None:
        """One sign-in started from `source` (it stores a pending login in Convex before anyone
        is authenticated); 429 beyond its budget, before anything is stored."""
        if not self._limiter.hit(self._sign_ins, "sign_ins", source):
            reset_at = self._limiter.get_window_stats(self._sign_ins, "sign_ins", source).reset_time
            raise _too_many(reset_at, "source", "Too many sign-ins started from here")


def _too_many(reset_at: float, scope: metrics.RefusalScope, what: str | None = None) -> Problem:
    metrics.rate_limit_refused(scope)
    wait = max(1, math.ceil(reset_at - time.time()))
    what = what or (
        "Too many look-ups of new clients for this principal"
        if scope == "lookup"
        else "Too many failed or unknown requests from here"
    )
    return Problem("rate_limited", f"{what}: try again in {wait} s.", headers={"Retry-After": str(wait)})


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ip_address(text.strip().strip('"').strip("[]"))
    except ValueError:
        return None


def _forwarded_for(request: Request, header: str) -> list[str]:
    """Client addresses from the one header the trusted proxies write (every line of it), in
    order: `Forwarded` (RFC 7239) `for=` values, or `X-Forwarded-For` entries."""
    values = ",".join(request.headers.getlist(header))
    if header == "x-forwarded-for":
        return [hop.strip() for hop in values.split(",") if hop.strip()]
    hops: list[str] = []
    for element in values.split(","):
        for pair in element.split(";"):
            name, _, value = pair.strip().partition("=")
            if name.lower() == "for":
                value = value.strip('"')
                # "[2001:db8::1]:4711" or "192.0.2.60:8080": drop the port.
                hops.append(value[1:].split("]")[0] if value.startswith("[") else value.split(":")[0])
    return hops
