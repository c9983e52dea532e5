"""Support tickets and their message thread, also live (convex/tickets.ts)."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.auth.actor import acting_for
from app.deps import ActorGateway, Live, Pagination, requires
from app.facts import LIMITS
from app.http.bodies import MAX_EPOCH_MS
from app.http.routing import DomainRouter
from app.live.sse import open_stream, stream_response
from app.tickets.schemas import Assignment, Message, MessageCreate, StatusChange, Ticket, TicketOpen, TicketStatus

router = DomainRouter("/tickets", tag="tickets")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanAssignTickets = Annotated[ActorGateway, requires("tickets.assign")]
CanChangeTicketStatus = Annotated[ActorGateway, requires("tickets.changeStatus", "tickets.closeOwn")]
CanWriteInternalNotes = Annotated[ActorGateway, requires("tickets.internalNote")]
CanOpenTickets = Annotated[ActorGateway, requires("tickets.open", "tickets.openForMember")]
CanReadTicket = Annotated[ActorGateway, requires("tickets.readAll", "tickets.readOwn")]
CanReadAllTickets = Annotated[ActorGateway, requires("tickets.readAll")]
CanReadOwnTickets = Annotated[ActorGateway, requires("tickets.readOwn")]
CanReplyToTicket = Annotated[ActorGateway, requires("tickets.reply", "tickets.replyOwn")]


@router.creates("", "openTicket", "Open a support ticket", Ticket, location="/{id}")
async def open_ticket(body: TicketOpen, convex: CanOpenTickets) -> dict[str, Any]:
    """Opens a support ticket with its first message, for the calling member or, with `memberId`, by staff on a member's
    behalf (staff must name the member: 422 otherwise). The ticket starts `open`, with priority `normal` unless another
    is given."""
    fields = body.model_dump(exclude_none=True)
    if acting_for(convex.actor, body.memberId, "tickets.open", "tickets.openForMember"):
        return await convex.mutation("tickets:openForMember", fields)
    return await convex.mutation("tickets:open", fields)


@router.lists("", "listTickets", "List the client's tickets", Ticket)
async def list_tickets(
    convex: CanReadAllTickets,
    page: Pagination,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    assigneeUserId: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Lists all the client's tickets, most recently updated first, filtered by `status` or by `assigneeUserId` (one at
    a time; the assignee filter wins), for staff help desks. Paged with `cursor`/`limit`; the next page's cursor is in
    `nextCursor` and the `Link` header."""
    return await convex.list_page("tickets:list", page, status=status_, assigneeUserId=assigneeUserId)


@router.lists("/mine", "listMyTickets", "Your own tickets", Ticket)
async def list_my_tickets(convex: CanReadOwnTickets, page: Pagination) -> dict[str, Any]:
    """Lists the calling member's own tickets, most recently updated first; a caller without a member profile in this
    client gets 422 `validation`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link`
    header."""
    return await convex.list_page("tickets:listMine", page)


@router.reads("/{ticketId}", "getTicket", "Read one ticket", Ticket)
async def get_ticket(ticketId: str, convex: CanReadTicket) -> dict[str, Any]:
    """Returns one ticket: staff may read any of the client's, a member only its own (another's reads as 404
    `not_found`)."""
    return await convex.query("tickets:get", {"ticketId": ticketId})


@router.lists("/{ticketId}/messages", "listTicketMessages", "A ticket's thread, oldest first", Message)
async def list_messages(ticketId: str, convex: CanReadTicket, page: Pagination) -> dict[str, Any]:
    """Returns a ticket's message thread, oldest first; staff also see internal notes, members never do. Paged with
    `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page("tickets:messages", page, ticketId=ticketId)


@router.creates("/{ticketId}/messages", "replyToTicket", "Reply on a ticket", Message, location=None)
async def reply(ticketId: str, body: MessageCreate, convex: CanReplyToTicket) -> dict[str, Any]:
    """Adds a public message to a ticket: a member on its own ticket, staff on any. A member's reply reopens a pending
    or resolved ticket; a closed ticket takes no replies and fails with 409 `invalid_transition`."""
    return await convex.mutation("tickets:reply", {"ticketId": ticketId, "body": body.body})


@router.creates(
    "/{ticketId}/internal-notes",
    "addTicketInternalNote",
    "Write an internal note on a ticket",
    Message,
    location=None,
)
async def add_internal_note(ticketId: str, body: MessageCreate, convex: CanWriteInternalNotes) -> dict[str, Any]:
    """Adds an internal note to a ticket's thread for the client's staff; members never see it, here or in the live
    stream."""
    return await convex.mutation("tickets:addInternalNote", {"ticketId": ticketId, "body": body.body})


@router.writes(
    "POST",
    "/{ticketId}/status",
    "changeTicketStatus",
    "Move a ticket through its states",
    Ticket,
)
async def change_status(ticketId: str, body: StatusChange, convex: CanChangeTicketStatus) -> dict[str, Any]:
    """Moves a ticket through open -> pending -> resolved -> closed; it may be reopened until it is closed, and a closed
    ticket stays closed. A step the state machine does not allow fails with 409 `invalid_transition`, and a member
    asking for anything but `closed` gets 403 `forbidden`."""
    return await convex.mutation("tickets:setStatus", {"ticketId": ticketId, "status": body.status})


@router.writes("POST", "/{ticketId}/assignee", "assignTicket", "Assign a ticket to a staff user", Ticket)
async def assign(ticketId: str, body: Assignment, convex: CanAssignTickets) -> dict[str, Any]:
    """Assigns a ticket to one of the client's staff users (client_admin or client_user), or unassigns it with `null`. A
    user who is not staff of this client answers 404 `not_found`."""
    return await convex.mutation("tickets:assign", {"ticketId": ticketId, "assigneeUserId": body.assigneeUserId})


# Convex's tickets.messagesSince sends at most this many per result (convex/limits.json, read
# by both); at the limit the stream subscribes again from the last message it sent.
MAX_LIVE_MESSAGES: int = LIMITS["messagesPerLiveUpdate"]


def parse_last_event_id(value: str | None) -> tuple[int, str | None]:
    """`<createdAt>:<messageId>` as this stream writes it; anything else starts over."""
    if value is None or ":" not in value:
        return 0, None
    stamp, _, message_id = value.partition(":")
    return (int(stamp), message_id) if stamp.isdigit() else (0, None)


@router.streams(
    "/{ticketId}/messages/stream",
    "streamTicketMessages",
    "Follow a ticket's thread live",
    (
        "Server-Sent Events: one `message` event per message of the thread, oldest first, then each new "
        "message as it is written. Members never receive internal notes. Each event's `id` is "
        "`<createdAt>:<messageId>`; a reconnecting browser sends it back as `Last-Event-ID` and the stream "
        "resumes after it. `since` (ms) starts later than the beginning. An `error` event ends the stream "
        "when access is lost."
    ),
    "The thread as events.",
    "id: 1767225600000:k57abc\nevent: message\n"
    'data: {"id":"k57abc","ticketId":"k12def","body":"On it","internal":false,"createdAt":1767225600000}\n\n',
)
async def stream_ticket_messages(
    ticketId: str,
    convex: CanReadTicket,
    hub: Live,
    since: Annotated[
        int, Query(ge=0, le=MAX_EPOCH_MS, description="Start from messages written at or after this time (ms).")
    ] = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=200)] = None,
) -> EventSourceResponse:
    resume_at, resume_after_id = parse_last_event_id(last_event_id)
    start = max(since, resume_at)

    def query_args(from_ms: int) -> dict[str, Any]:
        return convex.args({"ticketId": ticketId, "since": float(from_ms)})

    lease, subscription, first = await open_stream(hub, convex.actor, "tickets:messagesSince", query_args(start))

    async def events() -> AsyncIterator[ServerSentEvent]:
        # The newest time sent and the ids sent at that time: a message is new if it is
        # later, or as late but not sent yet (two messages can share a millisecond).
        last_at, sent_at_last = start, {resume_after_id} if resume_after_id else set()
        value = first
        while True:
            for raw in value:
                message = Message.model_validate(raw)
                if message.createdAt < last_at or (message.createdAt == last_at and message.id in sent_at_last):
                    continue
                if message.createdAt > last_at:
                    last_at, sent_at_last = message.createdAt, set()
                sent_at_last.add(message.id)
                yield ServerSentEvent(
                    event="message", id=f"{message.createdAt}:{message.id}", data=message.model_dump_json()
                )
            if len(value) >= MAX_LIVE_MESSAGES:
                value = await subscription.open(query_args(last_at))
            else:
                value = await subscription.next()

    return stream_response(lease, events())
