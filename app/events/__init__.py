"""Events (convex/events.ts): routes, schemas, and what the API document says of them."""

from app.events import routes, schemas
from app.http.domain import STATE_CONFLICTS, Domain, Examples

# An event's rules and its registrations' meet in the same operations (capacity, the window).
EVENT_CONFLICTS = (*STATE_CONFLICTS, "capacity_full", "already_registered", "registration_closed")

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"events": "Events with capacity and registration windows; sponsors attached to them."},
    conflicts=EVENT_CONFLICTS,
    resources={"Event": "eventId"},
    listed_by={"eventId": "listEvents"},
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "routes", "schemas"]
