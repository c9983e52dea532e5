"""Support tickets (convex/tickets.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain, Examples
from app.tickets import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"tickets": "Member support: tickets, their message thread and staff-only internal notes."},
    resources={"Ticket": "ticketId"},
    listed_by={"ticketId": "listTickets"},
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "routes", "schemas"]
