"""Event registrations and place counts: request and response bodies."""

from typing import Literal

from typing_extensions import TypeAliasType

from app.http.bodies import RequestBody, ResponseBody

RegistrationStatus = TypeAliasType(
    "RegistrationStatus", Literal["pending", "confirmed", "paid", "checked_in", "cancelled", "refunded"]
)


class Registration(ResponseBody):
    id: str
    eventId: str
    memberId: str
    status: RegistrationStatus
    registeredAt: int
    checkedInAt: int | None = None
    cancelledAt: int | None = None
    refundedAt: int | None = None
    refundedBy: str | None = None


class Registrant(ResponseBody):
    id: str
    firstName: str
    lastName: str
    email: str


class RegistrationWithMember(Registration):
    member: Registrant


class RegistrationCreate(RequestBody):
    memberId: str | None = None
    """Staff: the member to register. Members leave it out to register themselves."""


class RegistrationCount(ResponseBody):
    eventId: str
    registered: int
    capacity: int | None = None
    placesLeft: int | None = None
