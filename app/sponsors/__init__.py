"""Sponsors (convex/sponsors.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain, Examples
from app.openapi.demo import EVENT_BREAKFAST, EVENT_CONFERENCE, SPONSOR_PARTNER_BANK, SPONSOR_TOOLS
from app.sponsors import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"sponsors": "Sponsors, what their own staff may edit, and the events they sponsor."},
    resources={"Sponsor": "sponsorId"},
    listed_by={"sponsorId": "listSponsors"},
    examples=Examples(
        parameters={
            "getSponsor": {"sponsorId": SPONSOR_PARTNER_BANK},
            "updateSponsor": {"sponsorId": SPONSOR_PARTNER_BANK},
            # Tools Ltd backs the conference: it can be deleted once detachEventSponsor's example ran.
            "deleteSponsor": {"sponsorId": SPONSOR_TOOLS},
            "listEventSponsors": {"eventId": EVENT_CONFERENCE},
            "attachEventSponsor": {"eventId": EVENT_BREAKFAST, "sponsorId": SPONSOR_PARTNER_BANK},
            "detachEventSponsor": {"eventId": EVENT_CONFERENCE, "sponsorId": SPONSOR_TOOLS},
        },
        bodies={"updateSponsor": {"description": "Partner of the Annual Conference since 2020."}},
        try_it_out={
            "deleteSponsor": "A sponsor that backs events cannot be deleted (409 `conflict`); the example, Tools "
            "Ltd, backs the conference until the example of `detachEventSponsor` detaches it."
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
