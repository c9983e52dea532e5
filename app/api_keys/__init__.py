"""API keys (convex/apiKeys.ts): routes, schemas, and what the API document says of them."""

from app.api_keys import routes, schemas
from app.http.domain import Domain, Examples

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"api-keys": "Integrator keys of a client: created, listed and revoked by its admins."},
    resources={"ApiKey": "apiKeyId"},
    listed_by={"apiKeyId": "listApiKeys"},
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "routes", "schemas"]
