"""Sign-in at the BFF and browser sessions (convex/sessions.ts): routes, schemas, and what the API
document says of them."""

from app.http.domain import Domain, Examples
from app.sessions import routes, schemas

# Operations that act on the browser's own session.
IN_A_BROWSER = (
    "A browser's: sign in by opening `/v1/auth/login?returnTo=/` in the browser itself, and the session cookie goes "
    "with this operation. A bearer token is no session (`getSession` answers 401), and where sign-in is not configured "
    "the sign-in routes answer 404."
)
PLATFORM_ADMINS_ONLY = "Platform admins only (`make token EMAIL=support@platform.test`); acme's admin gets 403."

DOMAIN = Domain(
    routers=(routes.router,),
    tags={
        "auth": (
            "Sign-in at the BFF for browser apps (docs/spa.md): the OpenID Connect redirect, the session, sign-out, and"
            " the provider's back-channel logout."
        ),
        "sessions": "Browser sessions: a user's own, and any user's for platform admins.",
    },
    examples=Examples(
        try_it_out={
            "getSession": IN_A_BROWSER,
            "signOut": IN_A_BROWSER,
            "backchannelLogout": (
                "Called by the OpenID provider with a signed logout token, never by hand: the example answers 400 "
                "`invalid_logout_token` (404 where sign-in is not configured)."
            ),
            "endMySession": "Take a session's `id` from `listMySessions` (a bearer token has none of its own).",
            "listUserSessions": PLATFORM_ADMINS_ONLY,
            "endUserSession": f"{PLATFORM_ADMINS_ONLY} Take a session's `id` from `listUserSessions`.",
        }
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
