"""Webhooks: request and response bodies, and the payload of every event (the OpenAPI document's
`webhooks` section)."""

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model
from typing_extensions import TypeAliasType

from app.courses.schemas import Course
from app.enrollments.schemas import Enrollment
from app.events.schemas import Event
from app.facts import TEXT_MAX, WEBHOOKS
from app.http.bodies import NOT_BLANK, PatchBody, RequestBody, ResponseBody
from app.registrations.schemas import Registration
from app.tickets.schemas import Message, Ticket

# The types of convex/webhooks.json (tests/unit/webhooks holds them to it).
WebhookEventType = TypeAliasType(
    "WebhookEventType",
    Literal[
        "registration.created",
        "registration.cancelled",
        "enrollment.created",
        "enrollment.completed",
        "event.published",
        "event.updated",
        "event.cancelled",
        "course.published",
        "ticket.created",
        "ticket.message.created",
        "webhook.ping",
    ],
)
WebhookDeliveryStatus = TypeAliasType("WebhookDeliveryStatus", Literal["pending", "sending", "delivered", "failed"])
WebhookDisabledReason = TypeAliasType("WebhookDisabledReason", Literal["admin", "gone", "failing"])

DELIVERY: dict[str, Any] = WEBHOOKS["delivery"]
SUBSCRIBABLE = [t for t in WEBHOOKS["events"] if t != "webhook.ping"]


def url_field(default: Any = ...) -> Any:
    return Field(
        default,
        min_length=1,
        max_length=DELIVERY["urlMaxLength"],
        pattern=r"^https?://\S+$",
        description="Where deliveries are POSTed: a public https URL (no private, loopback or link-local address).",
        examples=["https://crm.example.com/hooks/member-platform"],
    )


def events_field(default: Any = ...) -> Any:
    return Field(
        default,
        min_length=1,
        max_length=len(SUBSCRIBABLE),
        description="The event types to deliver, each once (`webhook.ping` is sent only when asked for).",
        examples=[["registration.created", "registration.cancelled"]],
    )


class Webhook(ResponseBody):
    id: str
    url: str
    description: str | None = None
    events: list[WebhookEventType]
    enabled: bool
    disabledReason: WebhookDisabledReason | None = Field(
        default=None,
        description="Why deliveries stopped: `admin` (disabled by an admin), `gone` (the receiver answered 410), "
        "`failing` (every attempt failed for days).",
    )
    disabledAt: int | None = None
    createdAt: int
    updatedAt: int


class WebhookWithSecret(Webhook):
    secret: str = Field(
        description="The signing secret (`whsec_...`), shown this once. Verify each delivery's `webhook-signature` "
        "with it (docs/webhooks.md)."
    )


class WebhookCreate(RequestBody):
    url: str = url_field()
    events: list[WebhookEventType] = events_field()
    description: str | None = Field(default=None, max_length=TEXT_MAX["title"], examples=["CRM sync"])


class WebhookUpdate(PatchBody):
    url: str | None = url_field(None)
    events: list[WebhookEventType] | None = events_field(None)
    description: str | None = Field(default=None, pattern=NOT_BLANK, max_length=TEXT_MAX["title"])
    enabled: bool | None = Field(
        default=None, description="`false` stops deliveries; `true` resumes them and clears `disabledReason`."
    )


class WebhookDelivery(ResponseBody):
    id: str
    webhookId: str
    eventId: str = Field(description="The event's id: the `webhook-id` header of every attempt.")
    type: WebhookEventType
    status: WebhookDeliveryStatus
    attempts: int
    nextAttemptAt: int | None = Field(default=None, description="When the next attempt is due, while `pending`.")
    lastAttemptAt: int | None = None
    lastStatus: int | None = Field(default=None, description="The receiver's HTTP status at the last attempt.")
    lastError: str | None = Field(default=None, description="Why the last attempt got no HTTP answer.")
    lastResponseBody: str | None = Field(default=None, description="The start of the last answer (1 KiB at most).")
    lastDurationMs: int | None = None
    endedAt: int | None = Field(default=None, description="When it was delivered, or failed for good.")
    createdAt: int


class WebhookPing(ResponseBody):
    webhookId: str
    url: str


# What each event's `data` is: the resource as the REST API's GET returns it.
RESOURCES: dict[str, type[BaseModel]] = {
    "Registration": Registration,
    "Enrollment": Enrollment,
    "Event": Event,
    "Course": Course,
    "Ticket": Ticket,
    "TicketMessage": Message,
    "WebhookPing": WebhookPing,
}


def _payload_model(event_type: str) -> type[BaseModel]:
    spec = WEBHOOKS["events"][event_type]
    name = "".join(part.capitalize() for part in event_type.replace(".", "_").split("_")) + "Event"
    fields: dict[str, Any] = {
        "id": (str, Field(description="The event's id, also sent as `webhook-id`: the same on every attempt.")),
        "type": (Literal.__getitem__(event_type), ...),
        "createdAt": (int, Field(description="When the change happened (ms since the epoch).")),
        "client": (str, Field(description="The client's slug, as in `/v1/clients/{client}/...`.")),
        "data": (RESOURCES[spec["resource"]], ...),
    }
    return create_model(name, __base__=ResponseBody, __doc__=spec["description"], **fields)


# One model per event type, for the OpenAPI document's `webhooks` section.
PAYLOADS: dict[str, type[BaseModel]] = {event_type: _payload_model(event_type) for event_type in WEBHOOKS["events"]}
