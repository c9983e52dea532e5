"""The audit log: response bodies."""

from typing import Any

from pydantic import Field

from app.http.bodies import ResponseBody


class AuditEntry(ResponseBody):
    id: str
    actorUserId: str | None = None
    actorApiKeyId: str | None = None
    actorRole: str
    action: str = Field(examples=["registration.refund"])
    entityType: str
    entityId: str
    before: Any = None
    after: Any = None
    at: int
