"""Sponsors (convex/sponsors.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain
from app.sponsors import routes, schemas

DOMAIN = Domain.load(__file__, routes.router)

__all__ = ["DOMAIN", "routes", "schemas"]
