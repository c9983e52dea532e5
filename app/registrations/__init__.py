"""Event registrations (convex/registrations.ts): routes, schemas, and what the API document says of them."""

from app.events import EVENT_CONFLICTS
from app.http.domain import Domain, Examples
from app.openapi.demo import (
    A_STREAM,
    AS_A_MEMBER,
    EVENT_CONFERENCE,
    MEMBER_MAX,
    REGISTRATION_MAX_BREAKFAST,
    REGISTRATION_MIA_CONFERENCE,
)
from app.registrations import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"registrations": "Members registered for events: check-in, cancellation, refund."},
    conflicts=EVENT_CONFLICTS,
    resources={"Registration": "registrationId", "RegistrationWithMember": "registrationId"},
    listed_by={"registrationId": "listEventRegistrations"},
    examples=Examples(
        parameters={
            "registerForEvent": {"eventId": EVENT_CONFERENCE},
            "listEventRegistrations": {"eventId": EVENT_CONFERENCE},
            "getEventRegistrationCount": {"eventId": EVENT_CONFERENCE},
            "streamEventRegistrationCount": {"eventId": EVENT_CONFERENCE},
            "getRegistration": {"registrationId": REGISTRATION_MIA_CONFERENCE},
            "cancelRegistration": {"registrationId": REGISTRATION_MAX_BREAKFAST},
            "checkInRegistration": {"registrationId": REGISTRATION_MIA_CONFERENCE},
            # Only a paid registration can be refunded, and nothing sets `paid` yet: this one answers 409.
            "refundRegistration": {"registrationId": REGISTRATION_MIA_CONFERENCE},
        },
        bodies={"registerForEvent": {"memberId": MEMBER_MAX}},
        try_it_out={
            "refundRegistration": "Only a `paid` registration can be refunded and nothing sets `paid` yet (there "
            "are no payments), so the demo data has none: the example answers 409 `invalid_transition`.",
            "listMyRegistrations": AS_A_MEMBER,
            "streamEventRegistrationCount": A_STREAM,
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
