"""Event registrations and place counts, also live (convex/registrations.ts)."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.auth.actor import acting_for
from app.deps import ActorGateway, Live, Pagination, requires
from app.http.routing import DomainRouter
from app.live.sse import open_stream, stream_response
from app.registrations.schemas import (
    Registration,
    RegistrationCount,
    RegistrationCreate,
    RegistrationStatus,
    RegistrationWithMember,
)

router = DomainRouter(tag="registrations")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanCountRegistrations = Annotated[ActorGateway, requires("registrations.count")]
CanReadRegistration = Annotated[ActorGateway, requires("registrations.list", "registrations.readOwn")]
CanListRegistrations = Annotated[ActorGateway, requires("registrations.list")]
CanReadOwnRegistrations = Annotated[ActorGateway, requires("registrations.readOwn")]
CanRegister = Annotated[ActorGateway, requires("registrations.registerSelf", "registrations.registerMember")]


@router.creates(
    "/events/{eventId}/registrations",
    "registerForEvent",
    "Register yourself or a member for an event",
    Registration,
    location="/registrations/{id}",
)
async def register(eventId: str, body: RegistrationCreate, convex: CanRegister) -> dict[str, Any]:
    """Registers the calling member for a published event or, with `memberId`, lets staff register a member on its
    behalf; the registration is `confirmed` at once. Fails with 409 `registration_closed` when the event is not
    published or outside its registration window, `already_registered` when the member already holds an active
    registration, `capacity_full` when no place is left, and `conflict` when the member is not active."""
    if not acting_for(convex.actor, body.memberId, "registrations.registerSelf", "registrations.registerMember"):
        return await convex.mutation("registrations:registerSelf", {"eventId": eventId})
    return await convex.mutation("registrations:registerMember", {"eventId": eventId, "memberId": body.memberId})


@router.lists(
    "/events/{eventId}/registrations",
    "listEventRegistrations",
    "List an event's registrations, with their registrants",
    RegistrationWithMember,
)
async def list_event_registrations(
    eventId: str,
    convex: CanListRegistrations,
    page: Pagination,
    status_: Annotated[RegistrationStatus | None, Query(alias="status")] = None,
) -> dict[str, Any]:
    """Lists an event's registrations with each registrant's name and email, optionally by `status`, for staff check-in
    desks. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page("registrations:listForEvent", page, eventId=eventId, status=status_)


@router.lists("/registrations/mine", "listMyRegistrations", "Your own registrations", Registration)
async def list_my_registrations(convex: CanReadOwnRegistrations, page: Pagination) -> dict[str, Any]:
    """Lists the calling member's own registrations, newest first; a caller without a member profile in this client gets
    422 `validation`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page("registrations:listMine", page)


@router.reads(
    "/registrations/{registrationId}",
    "getRegistration",
    "Read one registration",
    Registration,
)
async def get_registration(registrationId: str, convex: CanReadRegistration) -> dict[str, Any]:
    """Returns one registration: staff may read any, a member only its own
    (another member's reads as 404 `not_found`)."""
    return await convex.query("registrations:get", {"registrationId": registrationId})


def _action_route(verb: str, function: str, operation_id: str, summary: str, *capabilities: str) -> None:
    @router.writes("POST", f"/registrations/{{registrationId}}/{verb}", operation_id, summary, Registration)
    async def act(registrationId: str, convex: Annotated[ActorGateway, requires(*capabilities)]) -> dict[str, Any]:
        """Moves a registration on: cancel takes a pending, confirmed or paid one (a member only its own) and frees its
        place; check-in takes a confirmed or paid one; refund takes a paid one, frees its place and records who refunded
        it. A registration in any other status fails with 409 `invalid_transition`."""
        return await convex.mutation(function, {"registrationId": registrationId})


_action_route(
    "cancel",
    "registrations:cancel",
    "cancelRegistration",
    "Cancel a registration",
    "registrations.cancelOwn",
    "registrations.cancelAny",
)

_action_route(
    "check-in",
    "registrations:checkIn",
    "checkInRegistration",
    "Check in a confirmed or paid registration",
    "registrations.checkIn",
)

_action_route(
    "refund", "registrations:refund", "refundRegistration", "Refund a paid registration", "registrations.refund"
)


@router.reads(
    "/events/{eventId}/registration-count",
    "getEventRegistrationCount",
    "How many places are taken (no personal data)",
    RegistrationCount,
    tags=["events"],
)
async def get_registration_count(eventId: str, convex: CanCountRegistrations) -> dict[str, Any]:
    """Returns how many places are taken and, when the event has a capacity, how many are left, without any registrant's
    personal data. An event the caller may not see answers 404 `not_found`."""
    return await convex.query("registrations:count", {"eventId": eventId})


@router.streams(
    "/events/{eventId}/registration-count/stream",
    "streamEventRegistrationCount",
    "Follow how many places are taken, live",
    (
        "Server-Sent Events: a `count` event with the current figures, then one each time they change "
        "(no personal data). An `error` event ends the stream when access is lost or the event is gone."
    ),
    "The count as events.",
    'event: count\ndata: {"eventId":"k98xyz","registered":41,"capacity":50,"placesLeft":9}\n\n',
)
async def stream_registration_count(eventId: str, convex: CanCountRegistrations, hub: Live) -> EventSourceResponse:
    lease, subscription, first = await open_stream(
        hub, convex.actor, "registrations:count", convex.args({"eventId": eventId})
    )

    async def events() -> AsyncIterator[ServerSentEvent]:
        value, previous = first, None
        while True:
            count = RegistrationCount.model_validate(value).model_dump_json()  # as the REST answer, nulls too
            if count != previous:
                yield ServerSentEvent(event="count", data=count)
                previous = count
            value = await subscription.next()

    return stream_response(lease, events())
