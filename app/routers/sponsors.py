"""Sponsors, and which events they back."""

from typing import Annotated, Literal

from fastapi import APIRouter, Response, status
from pydantic import Field, HttpUrl

from app.auth.actor import Actor, requires
from app.dependencies import Gateway
from app.models import NOT_BLANK, RequestBody, ResponseBody
from app.pagination import Page, Pagination
from app.protection.idempotency import IdempotentPostRoute
from app.routers._common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, list_page

router = APIRouter(prefix="/v1/clients/{client}", tags=["sponsors"], route_class=IdempotentPostRoute)

Tier = Literal["gold", "silver", "bronze"]


class Sponsor(ResponseBody):
    id: str
    name: str
    website: str | None = None
    description: str | None = None
    tier: Tier | None = None
    createdAt: int
    updatedAt: int


class SponsorCreate(RequestBody):
    name: str = Field(min_length=1, pattern=NOT_BLANK, max_length=200, examples=["Partner Bank"])
    website: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=5000)
    tier: Tier | None = None


class SponsorUpdate(RequestBody):
    name: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=200)
    website: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=5000)
    tier: Tier | None = Field(default=None, description="client_admin only.")


def _body(body: RequestBody) -> dict:
    return body.model_dump(mode="json", exclude_none=True)


@router.get(
    "/sponsors",
    operation_id="listSponsors",
    summary="List sponsors",
    response_model=Page[Sponsor],
    responses=LIST_ERRORS,
)
async def list_sponsors(actor: Annotated[Actor, requires("sponsors.read")], gateway: Gateway, page: Pagination) -> dict:
    """Lists the client's sponsors in name order. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor`
    and the `Link` header."""
    return await list_page(gateway, "sponsors:list", actor, page)


@router.get(
    "/sponsors/{sponsorId}",
    operation_id="getSponsor",
    summary="Read one sponsor",
    response_model=Sponsor,
    responses=READ_ERRORS,
)
async def get_sponsor(sponsorId: str, actor: Annotated[Actor, requires("sponsors.read")], gateway: Gateway) -> dict:
    """Returns one sponsor's profile; an id unknown in this client answers 404 `not_found`."""
    return await gateway.query("sponsors:get", {"actor": actor.arg(), "sponsorId": sponsorId})


@router.post(
    "/sponsors",
    operation_id="createSponsor",
    summary="Create a sponsor (client_admin)",
    status_code=status.HTTP_201_CREATED,
    response_model=Sponsor,
    responses=WRITE_ERRORS,
)
async def create_sponsor(
    body: SponsorCreate, actor: Annotated[Actor, requires("sponsors.manage")], gateway: Gateway
) -> dict:
    """Creates a sponsor with its name, website, description and tier. It backs no event until it is attached to one."""
    return await gateway.mutation("sponsors:create", {"actor": actor.arg(), **_body(body)})


@router.patch(
    "/sponsors/{sponsorId}",
    operation_id="updateSponsor",
    summary="Edit a sponsor (client_admin any; sponsor_admin its own)",
    response_model=Sponsor,
    responses=WRITE_ERRORS,
)
async def update_sponsor(
    sponsorId: str,
    body: SponsorUpdate,
    actor: Annotated[Actor, requires("sponsors.manage", "sponsors.updateOwn")],
    gateway: Gateway,
) -> dict:
    """Edits a sponsor's profile; only the fields sent change. A sponsor_admin may edit only its own sponsor (another
    reads as 404 `not_found`) and may not set `tier` (403 `forbidden`)."""
    return await gateway.mutation("sponsors:update", {"actor": actor.arg(), "sponsorId": sponsorId, **_body(body)})


@router.delete(
    "/sponsors/{sponsorId}",
    operation_id="deleteSponsor",
    summary="Delete a sponsor that backs no event",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def delete_sponsor(
    sponsorId: str, actor: Annotated[Actor, requires("sponsors.manage")], gateway: Gateway
) -> Response:
    """Deletes a sponsor. A sponsor that still backs any event fails with 409 `conflict`; detach it from its events
    first."""
    await gateway.mutation("sponsors:remove", {"actor": actor.arg(), "sponsorId": sponsorId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/events/{eventId}/sponsors",
    operation_id="listEventSponsors",
    summary="The sponsors of an event",
    response_model=list[Sponsor],
    responses=READ_ERRORS,
)
async def list_event_sponsors(
    eventId: str, actor: Annotated[Actor, requires("sponsors.read")], gateway: Gateway
) -> list:
    """Returns the sponsors backing an event (a short, unpaged list). An event the caller may not see answers 404
    `not_found`."""
    return await gateway.query("sponsors:listForEvent", {"actor": actor.arg(), "eventId": eventId})


@router.put(
    "/events/{eventId}/sponsors/{sponsorId}",
    operation_id="attachEventSponsor",
    summary="A sponsor backs an event (client_admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def attach(
    eventId: str, sponsorId: str, actor: Annotated[Actor, requires("sponsors.manage")], gateway: Gateway
) -> Response:
    """Makes a sponsor back an event, which lets that sponsor's staff see the event even while it is not published.
    Fails with 409 `conflict` if the sponsor already backs it."""
    await gateway.mutation("sponsors:attachToEvent", {"actor": actor.arg(), "eventId": eventId, "sponsorId": sponsorId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/events/{eventId}/sponsors/{sponsorId}",
    operation_id="detachEventSponsor",
    summary="A sponsor stops backing an event (client_admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def detach(
    eventId: str, sponsorId: str, actor: Annotated[Actor, requires("sponsors.manage")], gateway: Gateway
) -> Response:
    """Stops a sponsor backing an event. Answers 404 `not_found` if the sponsor does not back it."""
    await gateway.mutation(
        "sponsors:detachFromEvent", {"actor": actor.arg(), "eventId": eventId, "sponsorId": sponsorId}
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
