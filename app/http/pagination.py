"""Cursor pagination (docs/architecture.md, decision 6).

Convex's own cursor is wrapped in an opaque token, encrypted and authenticated (AES-256-GCM)
together with the client and the query it came from: nothing in it can be read, and replayed
on another client or another query (other filters, another parent), or altered, it is refused
with 400 `invalid_cursor`.
"""

import base64
import hashlib
import json
import os
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.types import Scope

from app.facts import LIMITS
from app.http.problems import Problem
from app.http.semantics import parameter_name
from app.services import services_of
from app.settings import Settings

# What a query may hold as it is (RFC 3986: unreserved, sub-delims, ":", "@", "/", "?", and "%" for escapes).
URI_SAFE = "-._~!$&'()*+,;=:@/?%"
DEFAULT_LIMIT: int = LIMITS["page"]["default"]
MAX_LIMIT: int = LIMITS["page"]["max"]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    nextCursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


class PageParams:
    def __init__(self, request: Request, response: Response, cursor: str | None, limit: int) -> None:
        self.cursor = cursor
        self.limit = limit
        self._cipher = _cipher(services_of(request).settings)
        self._request, self._response = request, response

    def convex_page(self, client_id: str, query_key: str) -> dict[str, Any]:
        """The `page` argument for a Convex list function."""
        convex_cursor = None
        if self.cursor is not None:
            convex_cursor = _open(self._cipher, self.cursor, client_id, query_key)
        return {"numItems": self.limit, "cursor": convex_cursor}

    def next_cursor(self, result: dict[str, Any], client_id: str, query_key: str) -> str | None:
        if result.get("isDone", True):
            return None
        sealed = _seal(self._cipher, result["continueCursor"], client_id, query_key)
        self._response.headers["Link"] = f'<{next_page_url(self._request.scope, sealed)}>; rel="next"'
        return sealed


def next_page_url(scope: Scope, sealed: str) -> str:
    """RFC 8288: the next page as a link relative to this one: the same path, and the same
    filters and limit as the caller wrote them (its query, less any `cursor`), then the sealed
    cursor, which is base64url and needs no escaping. Read from the raw query string: parsing
    it and encoding it again cost more than the rest of the page's paging."""
    query = scope["query_string"].decode("latin-1")
    # Escapes kept as sent; anything a URI may not hold (`<`, `>`, a space, other bytes) escaped.
    others = [pair for pair in query.split("&") if pair and parameter_name(pair) != "cursor"]
    kept = [quote(pair, safe=URI_SAFE, encoding="latin-1") for pair in others]
    path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")  # as Starlette's URL
    return f"{path}?{'&'.join([*kept, f'cursor={sealed}'])}"


async def page_params(
    request: Request,
    response: Response,
    cursor: Annotated[
        str | None, Query(description="Opaque cursor from a previous page's `nextCursor`.", max_length=4096)
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}, max {MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
) -> PageParams:
    # async: FastAPI runs a plain function dependency in a worker thread, a cost per request.
    return PageParams(request, response, cursor, limit)


Pagination = Annotated[PageParams, Depends(page_params)]


def query_key(operation: str, **filters: Any) -> str:
    """Identify a list query: the operation and its filters (not the page size)."""
    return json.dumps([operation, {k: v for k, v in sorted(filters.items()) if v is not None}])


def _cipher(settings: Settings) -> AESGCM:
    configured = settings.cursor_secret.get_secret_value()
    return _cipher_for(configured or "cursor:" + settings.convex_admin_key.get_secret_value())


@lru_cache(maxsize=4)
def _cipher_for(secret: str) -> AESGCM:
    """One cipher per secret: its key schedule is made once, not per request."""
    return AESGCM(hashlib.sha256(secret.encode()).digest())


def _bound_to(client_id: str, key: str) -> bytes:
    return json.dumps([client_id, key], separators=(",", ":")).encode()


def _seal(cipher: AESGCM, convex_cursor: str, client_id: str, key: str) -> str:
    """Encrypted and authenticated (AES-256-GCM): the Convex cursor, which can hold sort keys
    such as member names, is unreadable in URLs, `Link` headers and access logs; the client and
    the query are bound as associated data, so a cursor opens only for the list it came from."""
    nonce = os.urandom(12)
    sealed = cipher.encrypt(nonce, convex_cursor.encode(), _bound_to(client_id, key))
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def _open(cipher: AESGCM, token: str, client_id: str, key: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return cipher.decrypt(raw[:12], raw[12:], _bound_to(client_id, key)).decode()
    except (ValueError, InvalidTag):
        raise Problem("invalid_cursor", "The cursor is not valid for this list.") from None
