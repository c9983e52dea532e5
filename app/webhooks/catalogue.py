"""The OpenAPI document's `webhooks` section: one POST per event type, with its payload's schema
and the Standard Webhooks headers, so generated clients get the payload types."""

from typing import Any

from fastapi import APIRouter, Response

from app.facts import WEBHOOKS
from app.webhooks.schemas import PAYLOADS

SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The event's id: the same on every attempt and redelivery. Deduplicate by it.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "When this attempt was signed, in seconds since the epoch. Refuse one more than 5 minutes "
        "away from your clock (the replay window).",
        "schema": {"type": "integer"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` per signing secret, space-separated "
        "(two for a day after a rotation). Verify with the `standardwebhooks` library (docs/webhooks.md).",
        "schema": {"type": "string"},
    },
]

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Received: any 2xx ends the delivery."},
    410: {"description": "Gone: the endpoint is disabled and receives nothing more until an admin enables it."},
    "default": {
        "description": "Anything else, or no answer within 10 s, is retried with exponential backoff for over "
        '24 hours (docs/webhooks.md, "Retries").'
    },
}


def _receiver(model: type) -> Any:
    async def receive(body: model) -> None:  # type: ignore[valid-type]
        """Never called: the route only declares a delivery for the document."""

    return receive


router = APIRouter()
for _type, _model in PAYLOADS.items():
    router.add_api_route(
        _type,
        _receiver(_model),
        methods=["POST"],
        operation_id=f"webhook_{_type.replace('.', '_')}",
        summary=_type,
        description=WEBHOOKS["events"][_type]["description"],
        tags=["webhooks"],
        status_code=200,
        response_class=Response,
        responses=RESPONSES,
        openapi_extra={"parameters": SIGNATURE_HEADERS},
    )
