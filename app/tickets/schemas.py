"""Support tickets and their messages: request and response bodies."""

from typing import Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.facts import TEXT_MAX
from app.http.bodies import NOT_BLANK, RequestBody, ResponseBody

TicketStatus = TypeAliasType("TicketStatus", Literal["open", "pending", "resolved", "closed"])

TicketPriority = TypeAliasType("TicketPriority", Literal["low", "normal", "high", "urgent"])


class Ticket(ResponseBody):
    id: str
    memberId: str
    subject: str
    status: TicketStatus
    priority: TicketPriority
    assigneeUserId: str | None = None
    createdAt: int
    updatedAt: int
    closedAt: int | None = None


class Message(ResponseBody):
    id: str
    ticketId: str
    authorUserId: str | None = None
    authorApiKeyId: str | None = None
    body: str
    internal: bool = Field(description="An internal note: only staff ever see these.")
    createdAt: int


class TicketOpen(RequestBody):
    subject: str = Field(
        min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["title"], examples=["Cannot download my certificate"]
    )
    body: str = Field(min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["message"], description="The first message.")
    priority: TicketPriority | None = None
    memberId: str | None = Field(default=None, description="Staff: open on a member's behalf.")


class MessageCreate(RequestBody):
    body: str = Field(
        min_length=1,
        pattern=NOT_BLANK,
        max_length=TEXT_MAX["message"],
        examples=["Checked with the certificate service: a new link is on its way."],
    )


class StatusChange(RequestBody):
    status: TicketStatus = Field(examples=["pending"])


class Assignment(RequestBody):
    assigneeUserId: str | None = Field(description="A staff user of the client, or null to unassign.")
