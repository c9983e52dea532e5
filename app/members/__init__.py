"""Members (convex/members.ts): routes, schemas, the CSV export, and what the API document says of them."""

from app.http.domain import Domain, Examples
from app.members import export, routes, schemas

DOMAIN = Domain(
    routers=(routes.router, export.router),
    tags={"members": "Member profiles, their interests, and the member CSV export."},
    resources={"Member": "memberId"},
    listed_by={"memberId": "listMembers"},
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "export", "routes", "schemas"]
