"""Event registrations (convex/registrations.ts): routes, schemas, and what the API document says of them."""

from app.events import EVENT_CONFLICTS
from app.http.domain import Domain, Examples
from app.registrations import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"registrations": "Members registered for events: check-in, cancellation, refund."},
    conflicts=EVENT_CONFLICTS,
    resources={"Registration": "registrationId", "RegistrationWithMember": "registrationId"},
    listed_by={"registrationId": "listEventRegistrations"},
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "routes", "schemas"]
