"""Sign-in at the BFF and browser sessions (convex/sessions.ts): routes, schemas, and what the API
document says of them."""

from app.http.domain import Domain, Examples
from app.sessions import routes, schemas

DOMAIN = Domain(
    routers=(routes.router,),
    tags={
        "auth": "Sign-in at the BFF for browser apps (docs/spa.md): the OpenID Connect redirect, the session, "
        "sign-out, and the provider's back-channel logout.",
        "sessions": "Browser sessions: a user's own, and any user's for platform admins.",
    },
    # Sign-in is a browser's, with the session cookie (docs/spa.md), not Swagger UI's.
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "routes", "schemas"]
