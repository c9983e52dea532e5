"""Event registrations (convex/registrations.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain
from app.registrations import routes, schemas

DOMAIN = Domain.load(__file__, routes.router)

__all__ = ["DOMAIN", "routes", "schemas"]
