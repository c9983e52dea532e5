"""Events with their speakers, and the sponsors that back them."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from app.auth.actor import Actor, requires
from app.dependencies import Gateway
from app.models import MAX_EPOCH_MS, NOT_BLANK, PatchBody, RequestBody, ResponseBody
from app.pagination import Page, Pagination
from app.protection.idempotency import IdempotentPostRoute
from app.routers._common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, list_page

router = APIRouter(prefix="/v1/clients/{client}/events", tags=["events"], route_class=IdempotentPostRoute)

EventStatus = Literal["draft", "published", "cancelled", "archived"]
MAX_SPEAKERS = 20


class Speaker(RequestBody):
    name: str = Field(min_length=1, pattern=NOT_BLANK, max_length=200, examples=["Dr Rosa Field"])
    title: str | None = Field(default=None, max_length=200)
    bio: str | None = Field(default=None, max_length=2000)


class SpeakerOut(ResponseBody):
    name: str
    title: str | None = None
    bio: str | None = None


class Event(ResponseBody):
    id: str
    title: str
    description: str | None = None
    location: str | None = None
    status: EventStatus
    startAt: int = Field(description="Milliseconds since the epoch.")
    endAt: int
    registrationOpensAt: int | None = None
    registrationClosesAt: int | None = None
    capacity: int | None = Field(default=None, description="Absent: unlimited.")
    registeredCount: int = Field(description="Active registrations (no personal data).")
    speakers: list[SpeakerOut]
    createdAt: int
    updatedAt: int


class EventSchedule(RequestBody):
    registrationOpensAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
    registrationClosesAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
    capacity: int | None = Field(default=None, ge=1, le=1_000_000)
    speakers: list[Speaker] | None = Field(default=None, max_length=MAX_SPEAKERS)


class EventCreate(EventSchedule):
    title: str = Field(min_length=1, pattern=NOT_BLANK, max_length=200, examples=["Annual Conference"])
    description: str | None = Field(default=None, max_length=5000)
    location: str | None = Field(default=None, max_length=300)
    startAt: int = Field(ge=0, le=MAX_EPOCH_MS, examples=[1798761600000])
    endAt: int = Field(ge=0, le=MAX_EPOCH_MS, examples=[1798772400000])


class EventUpdate(EventSchedule, PatchBody):
    title: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    location: str | None = Field(default=None, max_length=300)
    startAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
    endAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)


class RegistrationCount(ResponseBody):
    eventId: str
    registered: int
    capacity: int | None = None
    placesLeft: int | None = None


def _args(actor: Actor, body: RequestBody) -> dict:
    return {"actor": actor.arg(), **body.model_dump(exclude_none=True)}


@router.get("", operation_id="listEvents", summary="List events", response_model=Page[Event], responses=LIST_ERRORS)
async def list_events(
    actor: Annotated[Actor, requires("events.read")],
    gateway: Gateway,
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
) -> dict:
    """Lists the client's events by start time, optionally by `status` and a start-time range (`startsAfter`,
    `startsBefore`); only staff may ask for statuses other than published (others get 403 `forbidden`). Paged with
    `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(
        gateway, "events:list", actor, page, status=status_, startsAfter=startsAfter, startsBefore=startsBefore
    )


@router.get(
    "/sponsored",
    operation_id="listSponsoredEvents",
    summary="Events the caller's sponsor backs (sponsor roles)",
    response_model=Page[Event],
    responses=LIST_ERRORS,
)
async def list_sponsored_events(
    actor: Annotated[Actor, requires("events.read")], gateway: Gateway, page: Pagination
) -> dict:
    """Lists every event the caller's sponsor backs, whatever its status, for sponsor portals; a caller that does not
    act for a sponsor gets 422 `validation`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and
    the `Link` header."""
    return await list_page(gateway, "events:listSponsored", actor, page)


@router.get(
    "/{eventId}", operation_id="getEvent", summary="Read one event", response_model=Event, responses=READ_ERRORS
)
async def get_event(eventId: str, actor: Annotated[Actor, requires("events.read")], gateway: Gateway) -> dict:
    """Returns one event with its speakers and registration count. An event that is not published reads as 404
    `not_found`, except to staff and to the sponsors that back it."""
    return await gateway.query("events:get", {"actor": actor.arg(), "eventId": eventId})


@router.post(
    "",
    operation_id="createEvent",
    summary="Create a draft event",
    status_code=status.HTTP_201_CREATED,
    response_model=Event,
    responses=WRITE_ERRORS,
)
async def create_event(body: EventCreate, actor: Annotated[Actor, requires("events.create")], gateway: Gateway) -> dict:
    """Creates an event in `draft` status with its schedule, capacity and up to 20 speakers. `endAt` must be after
    `startAt`, and a registration window must open before it closes and close no later than the event starts, otherwise
    422 `validation`."""
    return await gateway.mutation("events:create", _args(actor, body))


@router.patch(
    "/{eventId}", operation_id="updateEvent", summary="Edit an event", response_model=Event, responses=WRITE_ERRORS
)
async def update_event(
    eventId: str, body: EventUpdate, actor: Annotated[Actor, requires("events.update")], gateway: Gateway
) -> dict:
    """Edits an event; only the fields sent change and the schedule rules of creation still apply (422 `validation`). A
    cancelled or archived event cannot be edited, and capacity cannot drop below the active registrations: both fail
    with 409 `conflict`."""
    return await gateway.mutation("events:update", {**_args(actor, body), "eventId": eventId})


def _status_route(verb: str, target: EventStatus, operation_id: str, summary: str) -> None:
    @router.post(
        f"/{{eventId}}/{verb}", operation_id=operation_id, summary=summary, response_model=Event, responses=WRITE_ERRORS
    )
    async def change_status(
        eventId: str, actor: Annotated[Actor, requires("events.publish")], gateway: Gateway
    ) -> dict:
        """Moves the event through its states: draft -> published -> archived, or draft or published -> cancelled; any
        other step fails with 409 `invalid_transition`. Cancelling also cancels the event's pending, confirmed and paid
        registrations in the same change."""
        return await gateway.mutation("events:setStatus", {"actor": actor.arg(), "eventId": eventId, "status": target})


_status_route("publish", "published", "publishEvent", "Publish a draft event")
_status_route("cancel", "cancelled", "cancelEvent", "Cancel an event (cancels its open registrations)")
_status_route("archive", "archived", "archiveEvent", "Archive a published event")


@router.delete(
    "/{eventId}",
    operation_id="deleteEvent",
    summary="Delete an event with no registrations",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def delete_event(eventId: str, actor: Annotated[Actor, requires("events.delete")], gateway: Gateway) -> Response:
    """Deletes an event and its sponsor links. An event with any registration, even a cancelled one, fails with 409
    `conflict`; cancel it instead."""
    await gateway.mutation("events:remove", {"actor": actor.arg(), "eventId": eventId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{eventId}/registration-count",
    operation_id="getEventRegistrationCount",
    summary="How many places are taken (no personal data)",
    response_model=RegistrationCount,
    responses=READ_ERRORS,
)
async def get_registration_count(
    eventId: str, actor: Annotated[Actor, requires("registrations.count")], gateway: Gateway
) -> dict:
    """Returns how many places are taken and, when the event has a capacity, how many are left, without any registrant's
    personal data. An event the caller may not see answers 404 `not_found`."""
    return await gateway.query("registrations:count", {"actor": actor.arg(), "eventId": eventId})
