"""Who am I (convex/identity.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain
from app.identity import routes, schemas

DOMAIN = Domain.load(__file__, routes.router)

__all__ = ["DOMAIN", "routes", "schemas"]
