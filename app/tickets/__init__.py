"""Support tickets (convex/tickets.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain, Examples
from app.openapi.demo import A_STREAM, AS_A_MEMBER, MEMBER_MIA, TICKET_MIA, USER_SAM_STAFF
from app.tickets import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"tickets": "Member support: tickets, their message thread and staff-only internal notes."},
    resources={"Ticket": "ticketId"},
    listed_by={"ticketId": "listTickets"},
    examples=Examples(
        parameters={
            operation: {"ticketId": TICKET_MIA}
            for operation in (
                "getTicket",
                "listTicketMessages",
                "replyToTicket",
                "addTicketInternalNote",
                "changeTicketStatus",
                "assignTicket",
                "streamTicketMessages",
            )
        },
        bodies={
            "openTicket": {
                "subject": "Certificate shows the wrong name",
                "body": "Mia's CPD certificate reads 'Mia Memer'. Could you reissue it?",
                "priority": "normal",
                "memberId": MEMBER_MIA,
            },
            "assignTicket": {"assigneeUserId": USER_SAM_STAFF},
        },
        try_it_out={"listMyTickets": AS_A_MEMBER, "streamTicketMessages": A_STREAM},
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
