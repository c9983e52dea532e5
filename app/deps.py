"""Every dependency a route declares, as one `Annotated` alias each, in one import.

A route names what it needs and FastAPI resolves it once per request: `requires(...)` for the
caller in a client and its capability (app/auth/dependencies.py), `CurrentPrincipal` outside a
client, `Gateway` and `Live` for the process's services (app/services.py), `Pagination` for a
page's cursor and size (app/http/pagination.py).
"""

from app.auth.dependencies import ClientSlug, CurrentPrincipal, requires
from app.gateway.actor_gateway import ActorGateway
from app.http.pagination import Pagination
from app.services import AppServices, Gateway, Live

__all__ = ["ActorGateway", "AppServices", "ClientSlug", "CurrentPrincipal", "Gateway", "Live", "Pagination", "requires"]
