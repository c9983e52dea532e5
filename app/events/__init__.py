"""Events (convex/events.ts): routes, schemas, and what the API document says of them."""

from app.events import routes, schemas
from app.http.domain import STATE_CONFLICTS, Domain, Examples
from app.openapi.demo import EVENT_BREAKFAST, EVENT_CONFERENCE, EVENT_GALA_DRAFT, SPONSOR_PARTNER_BANK

# An event's rules and its registrations' meet in the same operations (capacity, the window).
EVENT_CONFLICTS = (*STATE_CONFLICTS, "capacity_full", "already_registered", "registration_closed")

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"events": "Events with capacity and registration windows; sponsors attached to them."},
    conflicts=EVENT_CONFLICTS,
    resources={"Event": "eventId"},
    listed_by={"eventId": "listEvents"},
    examples=Examples(
        parameters={
            "getEvent": {"eventId": EVENT_CONFERENCE},
            "updateEvent": {"eventId": EVENT_CONFERENCE},
            "deleteEvent": {"eventId": EVENT_GALA_DRAFT},
            "publishEvent": {"eventId": EVENT_GALA_DRAFT},
            "cancelEvent": {"eventId": EVENT_GALA_DRAFT},
            "archiveEvent": {"eventId": EVENT_BREAKFAST},
            "listSponsoredEvents": {"sponsorId": SPONSOR_PARTNER_BANK},
        },
        # The edit must leave the registration window open for registerForEvent's example.
        bodies={"updateEvent": {"location": "Manchester Central", "capacity": 250}},
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
