"""Members (convex/members.ts): routes, schemas, the CSV export, and what the API document says of them."""

from app.http.domain import Domain
from app.members import export, routes, schemas

DOMAIN = Domain.load(__file__, routes.router, export.router)

__all__ = ["DOMAIN", "export", "routes", "schemas"]
