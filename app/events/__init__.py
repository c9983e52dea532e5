"""Events (convex/events.ts): routes, schemas, and what the API document says of them."""

from app.events import routes, schemas
from app.http.domain import Domain, Examples, IdParameter
from app.openapi import demo

# updateEvent's body must leave the registration window open for registerForEvent's example.
DOMAIN = Domain(
    routers=(routes.router,),
    tags={"events": "Events with capacity and registration windows; sponsors attached to them."},
    conflicts=("conflict", "invalid_transition", "capacity_full", "already_registered", "registration_closed"),
    ids={"eventId": IdParameter("listEvents", ("Event",))},
    examples=Examples(
        parameters=demo.acting_on(
            eventId={
                "EVENT_CONFERENCE": ("getEvent", "updateEvent"),
                "EVENT_GALA_DRAFT": ("deleteEvent", "publishEvent", "cancelEvent"),
                "EVENT_BREAKFAST": ("archiveEvent",),
            },
            sponsorId={"SPONSOR_PARTNER_BANK": ("listSponsoredEvents",)},
        ),
        bodies={"updateEvent": {"location": "Manchester Central", "capacity": 250}},
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
