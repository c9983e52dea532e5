"""Interest categories (convex/categories.ts): routes, schemas, and what the API document says of them."""

from app.categories import routes, schemas
from app.http.domain import Domain

DOMAIN = Domain.load(__file__, routes.router)

__all__ = ["DOMAIN", "routes", "schemas"]
