"""Event registrations (convex/registrations.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain, Examples, IdParameter
from app.openapi import demo
from app.registrations import routes, schemas

# Only a paid registration can be refunded, and nothing sets `paid` yet: refundRegistration's example answers 409.
DOMAIN = Domain(
    routers=(routes.router,),
    tags={"registrations": "Members registered for events: check-in, cancellation, refund."},
    conflicts=("conflict", "invalid_transition", "capacity_full", "already_registered", "registration_closed"),
    ids={"registrationId": IdParameter("listEventRegistrations", ("Registration", "RegistrationWithMember"))},
    examples=Examples(
        parameters=demo.acting_on(
            eventId={
                "EVENT_CONFERENCE": (
                    "registerForEvent",
                    "listEventRegistrations",
                    "getEventRegistrationCount",
                    "streamEventRegistrationCount",
                )
            },
            registrationId={
                "REGISTRATION_MIA_CONFERENCE": ("getRegistration", "checkInRegistration", "refundRegistration"),
                "REGISTRATION_MAX_BREAKFAST": ("cancelRegistration",),
            },
        ),
        bodies={"registerForEvent": {"memberId": demo.document("MEMBER_MAX")}},
        try_it_out={
            "refundRegistration": (
                "Only a `paid` registration can be refunded and nothing sets `paid` yet (there are no payments), so the"
                " demo data has none: the example answers 409 `invalid_transition`."
            ),
            "listMyRegistrations": demo.AS_A_MEMBER,
            "streamEventRegistrationCount": demo.A_STREAM,
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
