"""Support tickets (convex/tickets.ts): routes, schemas, and what the API document says of them."""

from app.http.domain import Domain, Examples, IdParameter
from app.openapi import demo
from app.tickets import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"tickets": "Member support: tickets, their message thread and staff-only internal notes."},
    ids={"ticketId": IdParameter("listTickets", ("Ticket",))},
    examples=Examples(
        parameters=demo.acting_on(
            ticketId={
                "TICKET_MIA": (
                    "getTicket",
                    "listTicketMessages",
                    "replyToTicket",
                    "addTicketInternalNote",
                    "changeTicketStatus",
                    "assignTicket",
                    "streamTicketMessages",
                )
            }
        ),
        bodies={
            "openTicket": {
                "subject": "Certificate shows the wrong name",
                "body": "Mia's CPD certificate reads 'Mia Memer'. Could you reissue it?",
                "priority": "normal",
                "memberId": demo.document("MEMBER_MIA"),
            },
            "assignTicket": {"assigneeUserId": demo.document("USER_SAM_STAFF")},
        },
        try_it_out={"listMyTickets": demo.AS_A_MEMBER, "streamTicketMessages": demo.A_STREAM},
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
