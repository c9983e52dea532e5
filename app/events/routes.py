"""Events and their speakers (convex/events.ts)."""

from typing import Annotated, Any

from fastapi import Query

from app.deps import ActorGateway, Pagination, requires
from app.events.schemas import Event, EventCreate, EventStatus, EventUpdate
from app.http.bodies import MAX_EPOCH_MS
from app.http.routing import DomainRouter

router = DomainRouter("/events", tag="events")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanCreateEvents = Annotated[ActorGateway, requires("events.create")]
CanDeleteEvents = Annotated[ActorGateway, requires("events.delete")]
CanPublishEvents = Annotated[ActorGateway, requires("events.publish")]
CanReadEvents = Annotated[ActorGateway, requires("events.read")]
CanUpdateEvents = Annotated[ActorGateway, requires("events.update")]


@router.lists("", "listEvents", "List events", Event)
async def list_events(
    convex: CanReadEvents,
    page: Pagination,
    status_: Annotated[
        EventStatus | None, Query(alias="status", description="Staff only for other than published.")
    ] = None,
    startsAfter: Annotated[
        int | None, Query(ge=0, le=MAX_EPOCH_MS, description="Start time lower bound (ms, inclusive).")
    ] = None,
    startsBefore: Annotated[
        int | None, Query(ge=0, le=MAX_EPOCH_MS, description="Start time upper bound (ms, exclusive).")
    ] = None,
) -> dict[str, Any]:
    """Lists the client's events by start time, optionally by `status` and a start-time range (`startsAfter`,
    `startsBefore`); only staff may ask for statuses other than published (others get 403 `forbidden`). Paged with
    `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page(
        "events:list", page, status=status_, startsAfter=startsAfter, startsBefore=startsBefore
    )


@router.lists("/sponsored", "listSponsoredEvents", "Events a sponsor backs", Event)
async def list_sponsored_events(
    convex: CanReadEvents,
    page: Pagination,
    sponsorId: Annotated[
        str | None, Query(description="Staff: the sponsor whose events to list. Sponsor roles leave it out.")
    ] = None,
) -> dict[str, Any]:
    """Lists every event a sponsor backs, whatever its status: for sponsor portals the caller's own sponsor, for staff
    the sponsor named by `sponsorId`. Staff who leave `sponsorId` out, and callers that neither are staff nor act for a
    sponsor, get 422 `validation` naming `query.sponsorId`. Paged with `cursor`/`limit`; the next page's cursor is in
    `nextCursor` and the `Link` header."""
    return await convex.list_page("events:listSponsored", page, sponsorId=sponsorId)


@router.reads("/{eventId}", "getEvent", "Read one event", Event)
async def get_event(eventId: str, convex: CanReadEvents) -> dict[str, Any]:
    """Returns one event with its speakers and registration count. An event that is not published reads as 404
    `not_found`, except to staff and to the sponsors that back it."""
    return await convex.query("events:get", {"eventId": eventId})


@router.creates("", "createEvent", "Create a draft event", Event, location="/{id}")
async def create_event(body: EventCreate, convex: CanCreateEvents) -> dict[str, Any]:
    """Creates an event in `draft` status with its schedule, capacity and up to 20 speakers. `endAt` must be after
    `startAt`, and a registration window must open before it closes and close no later than the event starts, otherwise
    422 `validation`."""
    return await convex.mutation("events:create", body.model_dump(exclude_none=True))


@router.writes("PATCH", "/{eventId}", "updateEvent", "Edit an event", Event)
async def update_event(eventId: str, body: EventUpdate, convex: CanUpdateEvents) -> dict[str, Any]:
    """Edits an event; only the fields sent change and the schedule rules of creation still apply (422 `validation`). A
    cancelled or archived event cannot be edited, and capacity cannot drop below the active registrations: both fail
    with 409 `conflict`."""
    return await convex.mutation("events:update", {**body.model_dump(exclude_none=True), "eventId": eventId})


def _status_route(verb: str, target: EventStatus, operation_id: str, summary: str) -> None:
    @router.writes("POST", f"/{{eventId}}/{verb}", operation_id, summary, Event)
    async def change_status(eventId: str, convex: CanPublishEvents) -> dict[str, Any]:
        """Moves the event through its states: draft -> published -> archived, or draft or published -> cancelled; any
        other step fails with 409 `invalid_transition`. Cancelling also cancels the event's pending, confirmed and paid
        registrations in the same change."""
        return await convex.mutation("events:setStatus", {"eventId": eventId, "status": target})


_status_route("publish", "published", "publishEvent", "Publish a draft event")

_status_route("cancel", "cancelled", "cancelEvent", "Cancel an event (cancels its open registrations)")

_status_route("archive", "archived", "archiveEvent", "Archive a published event")


@router.no_content("DELETE", "/{eventId}", "deleteEvent", "Delete an event with no registrations")
async def delete_event(eventId: str, convex: CanDeleteEvents) -> None:
    """Deletes an event and its sponsor links. An event with any registration, even a cancelled one, fails with 409
    `conflict`; cancel it instead."""
    await convex.mutation("events:remove", {"eventId": eventId})
