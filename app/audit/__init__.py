"""The audit log (convex/audit.ts): routes, schemas, and what the API document says of them."""

from app.audit import routes, schemas
from app.http.domain import Domain

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"audit": "Who did what, when: every change, with filters and cursor paging."},
)

__all__ = ["DOMAIN", "routes", "schemas"]
