"""Sponsors (convex/sponsors.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain, Examples
from app.sponsors import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"sponsors": "Sponsors, what their own staff may edit, and the events they sponsor."},
    resources={"Sponsor": "sponsorId"},
    listed_by={"sponsorId": "listSponsors"},
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "routes", "schemas"]
