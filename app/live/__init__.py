"""Live updates: Convex subscriptions through the official client, streamed as SSE.

The streams are routes of the domains they mirror (tickets, registrations), tagged `live`."""

from app.http.domain import Domain

DOMAIN = Domain(
    routers=(),
    tags={"live": "Server-Sent Events mirroring a REST read: a ticket's thread, an event's count."},
)
