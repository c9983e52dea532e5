"""API keys (convex/apiKeys.ts): routes, schemas, and what the API document says of them."""

from app.api_keys import routes, schemas
from app.http.domain import Domain

DOMAIN = Domain.load(__file__, routes.router)

__all__ = ["DOMAIN", "routes", "schemas"]
