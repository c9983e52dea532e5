"""Cursor pagination (docs/architecture.md, decision 6).

Convex's own cursor is wrapped in an opaque token signed (HMAC-SHA256) together
with the client and the query it came from; replayed on another client or another
query (other filters, another parent) it is refused with 400 `invalid_cursor`.
"""

import base64
import hashlib
import hmac
import json
from typing import Annotated, Any, Generic, TypeVar

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


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()[:16]


def _seal(secret: bytes, convex_cursor: str, client_id: str, key: str) -> str:
    payload = json.dumps({"c": convex_cursor, "k": key, "t": client_id}, separators=(",", ":")).encode()
    token = _mac(secret, payload) + payload
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode()


def _open(secret: bytes, token: str, client_id: str, key: str) -> str:
    invalid = Problem(400, "invalid_cursor", "The cursor is not valid for this list.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        raise invalid from None
    mac, payload = raw[:16], raw[16:]
    if len(mac) < 16 or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise invalid
    data = json.loads(payload)
    if data.get("t") != client_id or data.get("k") != key:
        raise invalid
    convex_cursor: str = data["c"]  # as _seal wrote it, under the MAC
    return convex_cursor
