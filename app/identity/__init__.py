"""Who am I (convex/identity.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain
from app.identity import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"me": "The caller: who it is, its clients and roles, and what it may do in each."},
)

__all__ = ["DOMAIN", "routes", "schemas"]
