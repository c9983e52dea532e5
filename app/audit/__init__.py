"""The audit log (convex/audit.ts): routes, schemas, and what the API document says of them."""

from app.audit import routes, schemas
from app.http.domain import Domain

DOMAIN = Domain.load(__file__, routes.router)

__all__ = ["DOMAIN", "routes", "schemas"]
