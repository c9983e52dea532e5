"""Sponsors (convex/sponsors.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain, Examples, IdParameter
from app.openapi import demo
from app.sponsors import routes, schemas

# Tools Ltd backs the conference: deleteSponsor's example succeeds once detachEventSponsor's example ran.
DOMAIN = Domain(
    routers=(routes.router,),
    tags={"sponsors": "Sponsors, what their own staff may edit, and the events they sponsor."},
    ids={"sponsorId": IdParameter("listSponsors", ("Sponsor",))},
    examples=Examples(
        parameters=demo.acting_on(
            sponsorId={
                "SPONSOR_PARTNER_BANK": ("getSponsor", "updateSponsor", "attachEventSponsor"),
                "SPONSOR_TOOLS": ("deleteSponsor", "detachEventSponsor"),
            },
            eventId={
                "EVENT_CONFERENCE": ("listEventSponsors", "detachEventSponsor"),
                "EVENT_BREAKFAST": ("attachEventSponsor",),
            },
        ),
        bodies={"updateSponsor": {"description": "Partner of the Annual Conference since 2020."}},
        try_it_out={
            "deleteSponsor": (
                "A sponsor that backs events cannot be deleted (409 `conflict`); the example, Tools Ltd, backs the "
                "conference until the example of `detachEventSponsor` detaches it."
            )
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
