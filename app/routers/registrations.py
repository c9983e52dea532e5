"""Event registrations: members register themselves; staff register, list and check in."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from app.auth.actor import Actor, acting_for, requires
from app.dependencies import Gateway
from app.models import RequestBody, ResponseBody
from app.pagination import Page, Pagination
from app.protection.idempotency import IdempotentPostRoute
from app.routers._common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, list_page

router = APIRouter(prefix="/v1/clients/{client}", tags=["registrations"], route_class=IdempotentPostRoute)

RegistrationStatus = Literal["pending", "confirmed", "paid", "checked_in", "cancelled", "refunded"]


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


@router.post(
    "/events/{eventId}/registrations",
    operation_id="registerForEvent",
    summary="Register for an event (yourself, or a member on its behalf)",
    status_code=status.HTTP_201_CREATED,
    response_model=Registration,
    responses=WRITE_ERRORS,
)
async def register(
    eventId: str,
    body: RegistrationCreate,
    actor: Annotated[Actor, requires("registrations.registerSelf", "registrations.registerMember")],
    gateway: Gateway,
) -> dict:
    """Registers the calling member for a published event or, with `memberId`, lets staff register a member on its
    behalf; the registration is `confirmed` at once. Fails with 409 `registration_closed` when the event is not
    published or outside its registration window, `already_registered` when the member already holds an active
    registration, `capacity_full` when no place is left, and `conflict` when the member is not active."""
    if not acting_for(actor, body.memberId, "registrations.registerSelf", "registrations.registerMember"):
        return await gateway.mutation("registrations:registerSelf", {"actor": actor.arg(), "eventId": eventId})
    return await gateway.mutation(
        "registrations:registerMember", {"actor": actor.arg(), "eventId": eventId, "memberId": body.memberId}
    )


@router.get(
    "/events/{eventId}/registrations",
    operation_id="listEventRegistrations",
    summary="List an event's registrations, with registrants (staff)",
    response_model=Page[RegistrationWithMember],
    responses=LIST_ERRORS,
)
async def list_event_registrations(
    eventId: str,
    actor: Annotated[Actor, requires("registrations.list")],
    gateway: Gateway,
    page: Pagination,
    status_: Annotated[RegistrationStatus | None, Query(alias="status")] = None,
) -> dict:
    """Lists an event's registrations with each registrant's name and email, optionally by `status`, for staff check-in
    desks. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(gateway, "registrations:listForEvent", actor, page, eventId=eventId, status=status_)


@router.get(
    "/registrations/mine",
    operation_id="listMyRegistrations",
    summary="Your own registrations",
    response_model=Page[Registration],
    responses=LIST_ERRORS,
)
async def list_my_registrations(
    actor: Annotated[Actor, requires("registrations.readOwn")], gateway: Gateway, page: Pagination
) -> dict:
    """Lists the calling member's own registrations, newest first; a caller without a member profile in this client gets
    422 `validation`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(gateway, "registrations:listMine", actor, page)


@router.get(
    "/registrations/{registrationId}",
    operation_id="getRegistration",
    summary="Read one registration (your own, or any as staff)",
    response_model=Registration,
    responses=READ_ERRORS,
)
async def get_registration(
    registrationId: str,
    actor: Annotated[Actor, requires("registrations.list", "registrations.readOwn")],
    gateway: Gateway,
) -> dict:
    """Returns one registration: staff may read any, a member only its own (another member's reads as 404 `not_found`)."""
    return await gateway.query("registrations:get", {"actor": actor.arg(), "registrationId": registrationId})


def _action_route(verb: str, function: str, operation_id: str, summary: str, *capabilities: str) -> None:
    @router.post(
        f"/registrations/{{registrationId}}/{verb}",
        operation_id=operation_id,
        summary=summary,
        response_model=Registration,
        responses=WRITE_ERRORS,
    )
    async def act(registrationId: str, actor: Annotated[Actor, requires(*capabilities)], gateway: Gateway) -> dict:
        """Moves a registration on: cancel takes a pending, confirmed or paid one (a member only its own) and frees its
        place; check-in takes a confirmed or paid one; refund takes a paid one, frees its place and records who refunded
        it. A registration in any other status fails with 409 `invalid_transition`."""
        return await gateway.mutation(function, {"actor": actor.arg(), "registrationId": registrationId})


_action_route(
    "cancel",
    "registrations:cancel",
    "cancelRegistration",
    "Cancel a registration (your own; any as client_admin)",
    "registrations.cancelOwn",
    "registrations.cancelAny",
)
_action_route(
    "check-in",
    "registrations:checkIn",
    "checkInRegistration",
    "Check in a confirmed or paid registration",
    "registrations.checkIn",
)
_action_route(
    "refund", "registrations:refund", "refundRegistration", "Refund a paid registration", "registrations.refund"
)
