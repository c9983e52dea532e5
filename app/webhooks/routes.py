"""Webhook endpoints, their secrets and their deliveries (convex/webhooks.ts)."""

from typing import Annotated, Any

from fastapi import Query

from app.deps import ActorGateway, AppServices, Pagination, requires
from app.http.problems import FieldError, Problem
from app.http.routing import DomainRouter
from app.webhooks.schemas import (
    Webhook,
    WebhookCreate,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookUpdate,
    WebhookWithSecret,
)
from app.webhooks.signing import new_secret
from app.webhooks.targets import RefusedTarget

router = DomainRouter(tag="webhooks")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanManageWebhooks = Annotated[ActorGateway, requires("webhooks.manage")]


async def allowed_target(url: str, services: AppServices) -> str:
    """The URL, if deliveries may reach it (app/webhooks/targets.py); 422 naming `body.url` if not."""
    policy = services.webhook_targets
    try:
        host, literal = policy.check_url(url)
        if literal is None:
            await policy.check_resolved(host, None)
    except RefusedTarget as refused:
        # A rule on the data (where the name points), not the schema's: no `type`, as Convex's rules.
        error = FieldError(field="body.url", message=str(refused))
        raise Problem("validation", f"Webhooks cannot be sent there: {refused}.", errors=[error]) from None
    return url


@router.creates(
    "/webhooks",
    "createWebhook",
    "Create a webhook endpoint (the secret is shown once)",
    WebhookWithSecret,
    location="/webhooks/{id}",
)
async def create_webhook(body: WebhookCreate, convex: CanManageWebhooks, services: AppServices) -> dict[str, Any]:
    """Creates an endpoint that receives the client's events of the given types, signed with the secret in the
    response, which is shown only this once. The URL must be public https: a private, loopback, link-local or
    metadata address, written in any form or resolved from a name, is refused with 422 `validation`."""
    await allowed_target(body.url, services)
    secret = new_secret()
    sealed = services.webhook_secrets.seal(secret, convex.actor.clientId)
    args = {**body.model_dump(exclude_none=True), "sealedSecret": sealed}
    return {**await convex.mutation("webhooks:create", args), "secret": secret}


@router.lists("/webhooks", "listWebhooks", "List the client's webhook endpoints", Webhook)
async def list_webhooks(convex: CanManageWebhooks, page: Pagination) -> dict[str, Any]:
    """Lists the client's webhook endpoints, newest first, disabled ones included; secrets are never returned."""
    return await convex.list_page("webhooks:list", page)


@router.reads("/webhooks/{webhookId}", "getWebhook", "Read a webhook endpoint", Webhook)
async def get_webhook(webhookId: str, convex: CanManageWebhooks) -> dict[str, Any]:
    """Reads one endpoint: its URL, events, and whether deliveries are on (and if not, why)."""
    return await convex.query("webhooks:get", {"webhookId": webhookId})


@router.writes("PATCH", "/webhooks/{webhookId}", "updateWebhook", "Change a webhook endpoint", Webhook)
async def update_webhook(
    webhookId: str, body: WebhookUpdate, convex: CanManageWebhooks, services: AppServices
) -> dict[str, Any]:
    """Changes the URL, the events or the description, or turns deliveries off (`enabled: false`) or back on
    (`enabled: true`, which also clears `disabledReason`). A new URL is checked as on creation."""
    if body.url is not None:
        await allowed_target(body.url, services)
    return await convex.mutation("webhooks:update", {"webhookId": webhookId, **body.model_dump(exclude_none=True)})


@router.no_content("DELETE", "/webhooks/{webhookId}", "deleteWebhook", "Delete a webhook endpoint")
async def delete_webhook(webhookId: str, convex: CanManageWebhooks) -> None:
    """Deletes the endpoint; deliveries still waiting are dropped."""
    await convex.mutation("webhooks:remove", {"webhookId": webhookId})


@router.writes(
    "POST",
    "/webhooks/{webhookId}/rotate-secret",
    "rotateWebhookSecret",
    "Rotate a webhook endpoint's signing secret",
    WebhookWithSecret,
)
async def rotate_webhook_secret(webhookId: str, convex: CanManageWebhooks, services: AppServices) -> dict[str, Any]:
    """Replaces the signing secret with a new one, shown this once. For the next 24 hours deliveries carry a
    signature by each, so receivers can switch at their pace."""
    secret = new_secret()
    sealed = services.webhook_secrets.seal(secret, convex.actor.clientId)
    webhook = await convex.mutation("webhooks:rotateSecret", {"webhookId": webhookId, "sealedSecret": sealed})
    return {**webhook, "secret": secret}


@router.writes("POST", "/webhooks/{webhookId}/ping", "pingWebhook", "Send a test event to an endpoint", WebhookDelivery)
async def ping_webhook(webhookId: str, convex: CanManageWebhooks) -> dict[str, Any]:
    """Queues a `webhook.ping` event to this endpoint alone and answers its delivery, whose progress
    `listWebhookDeliveries` shows. A disabled endpoint is 409 `conflict`."""
    return await convex.mutation("webhooks:ping", {"webhookId": webhookId})


@router.lists(
    "/webhooks/{webhookId}/deliveries", "listWebhookDeliveries", "List an endpoint's deliveries", WebhookDelivery
)
async def list_webhook_deliveries(
    webhookId: str,
    convex: CanManageWebhooks,
    page: Pagination,
    status_: Annotated[WebhookDeliveryStatus | None, Query(alias="status")] = None,
) -> dict[str, Any]:
    """Lists the endpoint's deliveries, newest first, optionally by `status`: the event, attempts so far, the last
    answer (status, error, the start of its body) and when the next attempt is due. Kept 30 days."""
    return await convex.list_page("webhooks:listDeliveries", page, webhookId=webhookId, status=status_)


@router.writes(
    "POST",
    "/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    "redeliverWebhookDelivery",
    "Send a delivery again",
    WebhookDelivery,
)
async def redeliver_webhook_delivery(webhookId: str, deliveryId: str, convex: CanManageWebhooks) -> dict[str, Any]:
    """Queues the delivery again at once, with the same event and `webhook-id` (receivers that already have it
    ignore it). A delivery still waiting or being sent, or an endpoint that is disabled, is 409 `conflict`."""
    return await convex.mutation("webhooks:redeliver", {"webhookId": webhookId, "deliveryId": deliveryId})
