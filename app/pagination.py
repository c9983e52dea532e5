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
from typing import Annotated, Any, Generic, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from app.contract import LIMITS
from app.problems import Problem

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
        self._secret = _secret(request)
        self._request, self._response = request, response

    def convex_page(self, client_id: str, query_key: str) -> dict[str, Any]:
        """The `page` argument for a Convex list function."""
        convex_cursor = None
        if self.cursor is not None:
            convex_cursor = _open(self._secret, self.cursor, client_id, query_key)
        return {"numItems": self.limit, "cursor": convex_cursor}

    def next_cursor(self, result: dict[str, Any], client_id: str, query_key: str) -> str | None:
        if result.get("isDone", True):
            return None
        sealed = _seal(self._secret, result["continueCursor"], client_id, query_key)
        # RFC 8288: the next page as a link relative to this one, same filters and limit.
        url = self._request.url.include_query_params(cursor=sealed)
        self._response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
        return sealed


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


def _secret(request: Request) -> bytes:
    settings = request.app.state.settings
    configured = settings.cursor_secret.get_secret_value()
    base = configured or "cursor:" + settings.convex_admin_key.get_secret_value()
    return hashlib.sha256(base.encode()).digest()


def _bound_to(client_id: str, key: str) -> bytes:
    return json.dumps([client_id, key], separators=(",", ":")).encode()


def _seal(secret: bytes, convex_cursor: str, client_id: str, key: str) -> str:
    """Encrypted and authenticated (AES-256-GCM): the Convex cursor, which can hold sort keys
    such as member names, is unreadable in URLs, `Link` headers and access logs; the client and
    the query are bound as associated data, so a cursor opens only for the list it came from."""
    nonce = os.urandom(12)
    sealed = AESGCM(secret).encrypt(nonce, convex_cursor.encode(), _bound_to(client_id, key))
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def _open(secret: bytes, token: str, client_id: str, key: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return AESGCM(secret).decrypt(raw[:12], raw[12:], _bound_to(client_id, key)).decode()
    except (ValueError, InvalidTag):
        raise Problem(400, "invalid_cursor", "The cursor is not valid for this list.") from None
