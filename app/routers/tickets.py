"""Support tickets and their message thread (internal notes are for staff only)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import Field

from app.auth.actor import Actor, requires
from app.dependencies import Gateway
from app.models import NOT_BLANK, RequestBody, ResponseBody
from app.pagination import Page, Pagination
from app.protection.idempotency import IdempotentPostRoute
from app.routers._common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, list_page

router = APIRouter(prefix="/v1/clients/{client}/tickets", tags=["tickets"], route_class=IdempotentPostRoute)

TicketStatus = Literal["open", "pending", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]


class Ticket(ResponseBody):
    id: str
    memberId: str
    subject: str
    status: TicketStatus
    priority: Priority
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
    subject: str = Field(min_length=1, pattern=NOT_BLANK, max_length=200, examples=["Cannot download my certificate"])
    body: str = Field(min_length=1, pattern=NOT_BLANK, max_length=10_000, description="The first message.")
    priority: Priority | None = None
    memberId: str | None = Field(default=None, description="Staff: open on a member's behalf.")


class MessageCreate(RequestBody):
    body: str = Field(min_length=1, pattern=NOT_BLANK, max_length=10_000)


class StatusChange(RequestBody):
    status: TicketStatus


class Assignment(RequestBody):
    assigneeUserId: str | None = Field(description="A staff user of the client, or null to unassign.")


@router.post(
    "",
    operation_id="openTicket",
    summary="Open a support ticket",
    status_code=status.HTTP_201_CREATED,
    response_model=Ticket,
    responses=WRITE_ERRORS,
)
async def open_ticket(body: TicketOpen, actor: Annotated[Actor, requires("tickets.open")], gateway: Gateway) -> dict:
    """Opens a support ticket with its first message, for the calling member or, with `memberId`, by staff on a member's
    behalf. The ticket starts `open`, with priority `normal` unless another is given."""
    return await gateway.mutation("tickets:open", {"actor": actor.arg(), **body.model_dump(exclude_none=True)})


@router.get(
    "",
    operation_id="listTickets",
    summary="List the client's tickets (staff)",
    response_model=Page[Ticket],
    responses=LIST_ERRORS,
)
async def list_tickets(
    actor: Annotated[Actor, requires("tickets.readAll")],
    gateway: Gateway,
    page: Pagination,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    assigneeUserId: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    """Lists all the client's tickets, most recently updated first, filtered by `status` or by `assigneeUserId` (one at
    a time; the assignee filter wins), for staff help desks. Paged with `cursor`/`limit`; the next page's cursor is in
    `nextCursor` and the `Link` header."""
    return await list_page(gateway, "tickets:list", actor, page, status=status_, assigneeUserId=assigneeUserId)


@router.get(
    "/mine",
    operation_id="listMyTickets",
    summary="Your own tickets",
    response_model=Page[Ticket],
    responses=LIST_ERRORS,
)
async def list_my_tickets(
    actor: Annotated[Actor, requires("tickets.readOwn")], gateway: Gateway, page: Pagination
) -> dict:
    """Lists the calling member's own tickets, most recently updated first; a caller without a member profile in this
    client gets 422 `validation`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link`
    header."""
    return await list_page(gateway, "tickets:listMine", actor, page)


@router.get(
    "/{ticketId}", operation_id="getTicket", summary="Read one ticket", response_model=Ticket, responses=READ_ERRORS
)
async def get_ticket(
    ticketId: str, actor: Annotated[Actor, requires("tickets.readAll", "tickets.readOwn")], gateway: Gateway
) -> dict:
    """Returns one ticket: staff may read any of the client's, a member only its own (another's reads as 404
    `not_found`)."""
    return await gateway.query("tickets:get", {"actor": actor.arg(), "ticketId": ticketId})


@router.get(
    "/{ticketId}/messages",
    operation_id="listTicketMessages",
    summary="The thread, oldest first (members never see internal notes)",
    response_model=Page[Message],
    responses=LIST_ERRORS,
)
async def list_messages(
    ticketId: str,
    actor: Annotated[Actor, requires("tickets.readAll", "tickets.readOwn")],
    gateway: Gateway,
    page: Pagination,
) -> dict:
    """Returns a ticket's message thread, oldest first; staff also see internal notes, members never do. Paged with
    `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(gateway, "tickets:messages", actor, page, ticketId=ticketId)


@router.post(
    "/{ticketId}/messages",
    operation_id="replyToTicket",
    summary="Reply on a ticket",
    status_code=status.HTTP_201_CREATED,
    response_model=Message,
    responses=WRITE_ERRORS,
)
async def reply(
    ticketId: str,
    body: MessageCreate,
    actor: Annotated[Actor, requires("tickets.reply", "tickets.replyOwn")],
    gateway: Gateway,
) -> dict:
    """Adds a public message to a ticket: a member on its own ticket, staff on any. A member's reply reopens a pending
    or resolved ticket; a closed ticket takes no replies and fails with 409 `invalid_transition`."""
    return await gateway.mutation("tickets:reply", {"actor": actor.arg(), "ticketId": ticketId, "body": body.body})


@router.post(
    "/{ticketId}/internal-notes",
    operation_id="addTicketInternalNote",
    summary="Write an internal note (staff; never shown to members)",
    status_code=status.HTTP_201_CREATED,
    response_model=Message,
    responses=WRITE_ERRORS,
)
async def add_internal_note(
    ticketId: str, body: MessageCreate, actor: Annotated[Actor, requires("tickets.internalNote")], gateway: Gateway
) -> dict:
    """Adds an internal note to a ticket's thread for the client's staff; members never see it, here or in the live
    stream."""
    return await gateway.mutation(
        "tickets:addInternalNote", {"actor": actor.arg(), "ticketId": ticketId, "body": body.body}
    )


@router.post(
    "/{ticketId}/status",
    operation_id="changeTicketStatus",
    summary="Move a ticket through its states (members may only close their own)",
    response_model=Ticket,
    responses=WRITE_ERRORS,
)
async def change_status(
    ticketId: str,
    body: StatusChange,
    actor: Annotated[Actor, requires("tickets.changeStatus", "tickets.closeOwn")],
    gateway: Gateway,
) -> dict:
    """Moves a ticket through open -> pending -> resolved -> closed; it may be reopened until it is closed, and a closed
    ticket stays closed. A step the state machine does not allow fails with 409 `invalid_transition`, and a member
    asking for anything but `closed` gets 403 `forbidden`."""
    return await gateway.mutation(
        "tickets:setStatus", {"actor": actor.arg(), "ticketId": ticketId, "status": body.status}
    )


@router.post(
    "/{ticketId}/assignee",
    operation_id="assignTicket",
    summary="Assign a ticket to a staff user",
    response_model=Ticket,
    responses=WRITE_ERRORS,
)
async def assign(
    ticketId: str, body: Assignment, actor: Annotated[Actor, requires("tickets.assign")], gateway: Gateway
) -> dict:
    """Assigns a ticket to one of the client's staff users (client_admin or client_user), or unassigns it with `null`. A
    user who is not staff of this client answers 404 `not_found`."""
    return await gateway.mutation(
        "tickets:assign", {"actor": actor.arg(), "ticketId": ticketId, "assigneeUserId": body.assigneeUserId}
    )
