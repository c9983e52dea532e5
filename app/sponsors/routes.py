"""Sponsors and the events they back (convex/sponsors.ts)."""

from typing import Annotated, Any

from fastapi import APIRouter, Response, status

from app.deps import ActorGateway, Pagination, requires
from app.models import RequestBody
from app.pagination import Page
from app.problems import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS
from app.protection.idempotency import IdempotentPostRoute
from app.sponsors.schemas import Sponsor, SponsorCreate, SponsorUpdate

router = APIRouter(prefix="/v1/clients/{client}", tags=["sponsors"], route_class=IdempotentPostRoute)

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanUpdateSponsor = Annotated[ActorGateway, requires("sponsors.manage", "sponsors.updateOwn")]
CanManageSponsors = Annotated[ActorGateway, requires("sponsors.manage")]
CanReadSponsors = Annotated[ActorGateway, requires("sponsors.read")]


def _body(body: RequestBody) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_none=True)


@router.get(
    "/sponsors",
    operation_id="listSponsors",
    summary="List sponsors",
    response_model=Page[Sponsor],
    responses=LIST_ERRORS,
)
async def list_sponsors(convex: CanReadSponsors, page: Pagination) -> dict[str, Any]:
    """Lists the client's sponsors in name order. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor`
    and the `Link` header."""
    return await convex.list_page("sponsors:list", page)


@router.get(
    "/sponsors/{sponsorId}",
    operation_id="getSponsor",
    summary="Read one sponsor",
    response_model=Sponsor,
    responses=READ_ERRORS,
)
async def get_sponsor(sponsorId: str, convex: CanReadSponsors) -> dict[str, Any]:
    """Returns one sponsor's profile; an id unknown in this client answers 404 `not_found`."""
    return await convex.query("sponsors:get", {"sponsorId": sponsorId})


@router.post(
    "/sponsors",
    operation_id="createSponsor",
    summary="Create a sponsor (client_admin)",
    status_code=status.HTTP_201_CREATED,
    response_model=Sponsor,
    responses=WRITE_ERRORS,
)
async def create_sponsor(body: SponsorCreate, convex: CanManageSponsors) -> dict[str, Any]:
    """Creates a sponsor with its name, website, description and tier. It backs no event until it is attached to one."""
    return await convex.mutation("sponsors:create", {**_body(body)})


@router.patch(
    "/sponsors/{sponsorId}",
    operation_id="updateSponsor",
    summary="Edit a sponsor (client_admin any; sponsor_admin its own)",
    response_model=Sponsor,
    responses=WRITE_ERRORS,
)
async def update_sponsor(sponsorId: str, body: SponsorUpdate, convex: CanUpdateSponsor) -> dict[str, Any]:
    """Edits a sponsor's profile; only the fields sent change. A sponsor_admin may edit only its own sponsor (another
    reads as 404 `not_found`) and may not set `tier` (403 `forbidden`)."""
    return await convex.mutation("sponsors:update", {"sponsorId": sponsorId, **_body(body)})


@router.delete(
    "/sponsors/{sponsorId}",
    operation_id="deleteSponsor",
    summary="Delete a sponsor that backs no event",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def delete_sponsor(sponsorId: str, convex: CanManageSponsors) -> Response:
    """Deletes a sponsor. A sponsor that still backs any event fails with 409 `conflict`; detach it from its events
    first."""
    await convex.mutation("sponsors:remove", {"sponsorId": sponsorId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/events/{eventId}/sponsors",
    operation_id="listEventSponsors",
    summary="The sponsors of an event",
    response_model=list[Sponsor],
    responses=READ_ERRORS,
)
async def list_event_sponsors(eventId: str, convex: CanReadSponsors) -> list[dict[str, Any]]:
    """Returns the sponsors backing an event (a short, unpaged list). An event the caller may not see answers 404
    `not_found`."""
    return await convex.query("sponsors:listForEvent", {"eventId": eventId})


@router.put(
    "/events/{eventId}/sponsors/{sponsorId}",
    operation_id="attachEventSponsor",
    summary="A sponsor backs an event (client_admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def attach(eventId: str, sponsorId: str, convex: CanManageSponsors) -> Response:
    """Makes a sponsor back an event, which lets that sponsor's staff see the event even while it is not published.
    Fails with 409 `conflict` if the sponsor already backs it."""
    await convex.mutation("sponsors:attachToEvent", {"eventId": eventId, "sponsorId": sponsorId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/events/{eventId}/sponsors/{sponsorId}",
    operation_id="detachEventSponsor",
    summary="A sponsor stops backing an event (client_admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def detach(eventId: str, sponsorId: str, convex: CanManageSponsors) -> Response:
    """Stops a sponsor backing an event. Answers 404 `not_found` if the sponsor does not back it."""
    await convex.mutation("sponsors:detachFromEvent", {"eventId": eventId, "sponsorId": sponsorId})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
