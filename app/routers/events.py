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
    status_: Annotated[EventStatus | None, Query(alias="status", description="Staff only for other than published.")] = None,
    startsAfter: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS, description="Start time lower bound (ms, inclusive).")] = None,
    startsBefore: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS, description="Start time upper bound (ms, exclusive).")] = None,
) -> dict:
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
async def list_sponsored_events(actor: Annotated[Actor, requires("events.read")], gateway: Gateway, page: Pagination) -> dict:
    return await list_page(gateway, "events:listSponsored", actor, page)


@router.get("/{eventId}", operation_id="getEvent", summary="Read one event", response_model=Event, responses=READ_ERRORS)
async def get_event(eventId: str, actor: Annotated[Actor, requires("events.read")], gateway: Gateway) -> dict:
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
    return await gateway.mutation("events:create", _args(actor, body))


@router.patch("/{eventId}", operation_id="updateEvent", summary="Edit an event", response_model=Event, responses=WRITE_ERRORS)
async def update_event(
    eventId: str, body: EventUpdate, actor: Annotated[Actor, requires("events.update")], gateway: Gateway
) -> dict:
    return await gateway.mutation("events:update", {**_args(actor, body), "eventId": eventId})


def _status_route(verb: str, target: EventStatus, operation_id: str, summary: str) -> None:
    @router.post(f"/{{eventId}}/{verb}", operation_id=operation_id, summary=summary, response_model=Event, responses=WRITE_ERRORS)
    async def change_status(eventId: str, actor: Annotated[Actor, requires("events.publish")], gateway: Gateway) -> dict:
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
    await gateway.mutation("events:remove", {"actor": actor.arg(), "eventId": eventId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{eventId}/registration-count",
    operation_id="getEventRegistrationCount",
    summary="How many places are taken (no personal data)",
    response_model=RegistrationCount,
    responses=READ_ERRORS,
)
async def get_registration_count(eventId: str, actor: Annotated[Actor, requires("registrations.count")], gateway: Gateway) -> dict:
    return await gateway.query("registrations:count", {"actor": actor.arg(), "eventId": eventId})
