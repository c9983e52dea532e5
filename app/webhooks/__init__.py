"""Webhooks (convex/webhooks.ts): routes, schemas, the delivery worker, and what the API document
says of them, including its `webhooks` section (one entry per event type)."""

from app.http.domain import Domain, Examples, IdParameter
from app.webhooks import catalogue, routes, schemas

NEEDS_A_WEBHOOK = (
    "The demo data has no webhook endpoints: create one with `createWebhook` and use its `id` "
    "(and, for a redelivery, a `deliveryId` from `listWebhookDeliveries` once an attempt has ended)."
)

DOMAIN = Domain(
    routers=(routes.router,),
    webhooks=catalogue.router,
    tags={
        "webhooks": "Endpoints that receive the client's events, signed (Standard Webhooks), retried, with a "
        "delivery log; client admins manage them. The payloads are in the document's `webhooks` section."
    },
    ids={
        "webhookId": IdParameter("listWebhooks", ("Webhook",)),
        "deliveryId": IdParameter("listWebhookDeliveries", ("WebhookDelivery",)),
    },
    examples=Examples(
        bodies={
            "createWebhook": {
                "url": "https://crm.example.com/hooks/member-platform",
                "events": ["registration.created", "registration.cancelled"],
                "description": "CRM sync",
            },
            "updateWebhook": {"enabled": False},
        },
        try_it_out=dict.fromkeys(
            (
                "getWebhook",
                "updateWebhook",
                "deleteWebhook",
                "rotateWebhookSecret",
                "pingWebhook",
                "listWebhookDeliveries",
                "redeliverWebhookDelivery",
            ),
            NEEDS_A_WEBHOOK,
        ),
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
