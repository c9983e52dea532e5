"""API keys (convex/apiKeys.ts): routes, schemas, and what the API document says of them."""

from app.api_keys import routes, schemas
from app.http.domain import Domain, Examples, IdParameter

# createApiKey's body has no `sponsorId`, which only a sponsor role takes.
DOMAIN = Domain(
    routers=(routes.router,),
    tags={"api-keys": "Integrator keys of a client: created, listed and revoked by its admins."},
    ids={"apiKeyId": IdParameter("listApiKeys", ("ApiKey",))},
    examples=Examples(
        bodies={"createApiKey": {"name": "CRM sync", "role": "client_user"}},
        try_it_out={
            "revokeApiKey": ("The demo data has no API keys: create one with `createApiKey` and revoke its `key.id`.")
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
