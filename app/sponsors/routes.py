"""Sponsors and the events they back (convex/sponsors.ts)."""

from typing import Annotated, Any

from app.deps import ActorGateway, Pagination, requires
from app.http.bodies import RequestBody
from app.http.routing import DomainRouter
from app.sponsors.schemas import Sponsor, SponsorCreate, SponsorUpdate

router = DomainRouter(tag="sponsors")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanUpdateSponsor = Annotated[ActorGateway, requires("sponsors.manage", "sponsors.updateOwn")]
CanManageSponsors = Annotated[ActorGateway, requires("sponsors.manage")]
CanReadSponsors = Annotated[ActorGateway, requires("sponsors.read")]


def _body(body: RequestBody) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_none=True)


@router.lists("/sponsors", "listSponsors", "List sponsors", Sponsor)
async def list_sponsors(convex: CanReadSponsors, page: Pagination) -> dict[str, Any]:
    """Lists the client's sponsors in name order. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor`
    and the `Link` header."""
    return await convex.list_page("sponsors:list", page)


@router.reads("/sponsors/{sponsorId}", "getSponsor", "Read one sponsor", Sponsor)
async def get_sponsor(sponsorId: str, convex: CanReadSponsors) -> dict[str, Any]:
    """Returns one sponsor's profile; an id unknown in this client answers 404 `not_found`."""
    return await convex.query("sponsors:get", {"sponsorId": sponsorId})


@router.creates("/sponsors", "createSponsor", "Create a sponsor", Sponsor, location="/sponsors/{id}")
async def create_sponsor(body: SponsorCreate, convex: CanManageSponsors) -> dict[str, Any]:
    """Creates a sponsor with its name, website, description and tier. It backs no event until it is attached to one."""
    return await convex.mutation("sponsors:create", {**_body(body)})


@router.writes(
    "PATCH",
    "/sponsors/{sponsorId}",
    "updateSponsor",
    "Edit a sponsor",
    Sponsor,
)
async def update_sponsor(sponsorId: str, body: SponsorUpdate, convex: CanUpdateSponsor) -> dict[str, Any]:
    """Edits a sponsor's profile; only the fields sent change. A sponsor_admin may edit only its own sponsor (another
    reads as 404 `not_found`) and may not set `tier` (403 `forbidden`)."""
    return await convex.mutation("sponsors:update", {"sponsorId": sponsorId, **_body(body)})


@router.no_content("DELETE", "/sponsors/{sponsorId}", "deleteSponsor", "Delete a sponsor that backs no event")
async def delete_sponsor(sponsorId: str, convex: CanManageSponsors) -> None:
    """Deletes a sponsor. A sponsor that still backs any event fails with 409 `conflict`; detach it from its events
    first."""
    await convex.mutation("sponsors:remove", {"sponsorId": sponsorId})


@router.reads("/events/{eventId}/sponsors", "listEventSponsors", "The sponsors of an event", list[Sponsor])
async def list_event_sponsors(eventId: str, convex: CanReadSponsors) -> list[dict[str, Any]]:
    """Returns the sponsors backing an event (a short, unpaged list). An event the caller may not see answers 404
    `not_found`."""
    return await convex.query("sponsors:listForEvent", {"eventId": eventId})


@router.no_content("PUT", "/events/{eventId}/sponsors/{sponsorId}", "attachEventSponsor", "A sponsor backs an event")
async def attach(eventId: str, sponsorId: str, convex: CanManageSponsors) -> None:
    """Makes a sponsor back an event, which lets that sponsor's staff see the event even while it is not published.
    Fails with 409 `conflict` if the sponsor already backs it."""
    await convex.mutation("sponsors:attachToEvent", {"eventId": eventId, "sponsorId": sponsorId})


@router.no_content(
    "DELETE",
    "/events/{eventId}/sponsors/{sponsorId}",
    "detachEventSponsor",
    "A sponsor stops backing an event",
)
async def detach(eventId: str, sponsorId: str, convex: CanManageSponsors) -> None:
    """Stops a sponsor backing an event. Answers 404 `not_found` if the sponsor does not back it."""
    await convex.mutation("sponsors:detachFromEvent", {"eventId": eventId, "sponsorId": sponsorId})
