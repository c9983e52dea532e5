"""An integrator's code against the Python client openapi-python-client generates from /openapi.json.

tests/e2e/test_generated_client.py generates the package `member_platform_client`, type-checks this file
with `mypy --strict` and no expression of type Any (disallow_any_expr), then runs it against the BFF. It is
written the way an integrator would write it: no cast, no Any, no `type: ignore`; the generated functions
answer `Model | ProblemDetail | None`, narrowed with isinstance.
"""

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

from member_platform_client import AuthenticatedClient
from member_platform_client.api.audit import list_audit_log
from member_platform_client.api.events import create_event, get_event_registration_count, list_events, publish_event
from member_platform_client.api.members import create_member
from member_platform_client.api.registrations import cancel_registration, get_registration, register_for_event
from member_platform_client.models import (
    Event,
    EventCreate,
    EventStatus,
    Member,
    MemberCreate,
    ProblemCode,
    ProblemDetail,
    RegistrationCreate,
    RegistrationStatus,
)

DAY_MS = 24 * 3600 * 1000

Answer = TypeVar("Answer")


class ApiProblem(Exception):
    """A documented error answer, kept whole so callers branch on its `code`."""

    def __init__(self, problem: ProblemDetail) -> None:
        super().__init__(f"{problem.status} {problem.code}: {problem.detail} (request {problem.request_id})")
        self.problem = problem


def expect(answer: Answer | ProblemDetail | None) -> Answer:
    """The success model of a generated call; its problem raised otherwise. None is an undocumented status,
    which the client raises itself when built with raise_on_unexpected_status=True."""
    if isinstance(answer, ProblemDetail):
        raise ApiProblem(answer)
    if answer is None:
        raise RuntimeError("an answer the OpenAPI document does not describe")
    return answer


@dataclass(frozen=True)
class Outcome:
    """What the scenario saw, for the test to check."""

    event: Event
    listed: bool
    registration_id: str
    location: str | None
    registered_status: RegistrationStatus
    read_event_id: str
    full_at: int | None
    cancelled_status: RegistrationStatus
    places_left: int | None
    audit_actions: list[str]
    missing_code: ProblemCode


async def published_events(client: AuthenticatedClient, client_slug: str) -> AsyncIterator[Event]:
    """Every published event, page by page, following `nextCursor`."""
    cursor: str | None = None
    while True:
        page = expect(
            await list_events.asyncio(
                client_slug, client=client, status=EventStatus.PUBLISHED, cursor=cursor, limit=100
            )
        )
        for event in page.items:
            yield event
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def new_member(client: AuthenticatedClient, client_slug: str, first_name: str) -> Member:
    email = f"{first_name.lower()}-{uuid.uuid4().hex[:8]}@example.org"
    body = MemberCreate(first_name=first_name, last_name="Integrator", email=email)
    return expect(await create_member.asyncio(client_slug, client=client, body=body, idempotency_key=str(uuid.uuid4())))


async def run(client: AuthenticatedClient, client_slug: str) -> Outcome:
    """A CRM sync: publish a one-place workshop, find it in the listing, register a member, read the
    registration, see a second member refused because the event is full, cancel, and read the audit trail."""
    start = int(time.time() * 1000) + 10 * DAY_MS
    draft = expect(
        await create_event.asyncio(
            client_slug,
            client=client,
            body=EventCreate(title="Integrator workshop", start_at=start, end_at=start + 3_600_000, capacity=1),
            idempotency_key=str(uuid.uuid4()),
        )
    )
    event = expect(await publish_event.asyncio(client_slug, draft.id, client=client))
    listed = any([e.id == event.id async for e in published_events(client, client_slug)])

    alice = await new_member(client, client_slug, "Alice")
    bob = await new_member(client, client_slug, "Bob")

    registered = await register_for_event.asyncio_detailed(
        client_slug,
        event.id,
        client=client,
        body=RegistrationCreate(member_id=alice.id),
        idempotency_key=str(uuid.uuid4()),
    )
    registration = expect(registered.parsed)
    read = expect(await get_registration.asyncio(client_slug, registration.id, client=client))

    try:
        expect(
            await register_for_event.asyncio(
                client_slug, event.id, client=client, body=RegistrationCreate(member_id=bob.id)
            )
        )
    except ApiProblem as refused:
        if refused.problem.code != ProblemCode.CAPACITY_FULL:
            raise
        full_at = refused.problem.capacity if isinstance(refused.problem.capacity, int) else None
    else:
        raise RuntimeError("a one-place event took a second registration")

    cancelled = expect(await cancel_registration.asyncio(client_slug, registration.id, client=client))
    count = expect(await get_event_registration_count.asyncio(client_slug, event.id, client=client))
    audit = expect(
        await list_audit_log.asyncio(client_slug, client=client, entity_type="registration", entity_id=registration.id)
    )

    missing = await get_registration.asyncio(client_slug, "0" * 32, client=client)
    if not isinstance(missing, ProblemDetail):
        raise RuntimeError(f"an unknown registration was found: {missing}")

    return Outcome(
        event=event,
        listed=listed,
        registration_id=registration.id,
        location=registered.headers.get("Location"),
        registered_status=registration.status,
        read_event_id=read.event_id,
        full_at=full_at,
        cancelled_status=cancelled.status,
        places_left=count.places_left,
        audit_actions=[entry.action for entry in audit.items],
        missing_code=missing.code,
    )
