"""Sign-in, the signed-in session and the sessions a user or a platform admin sees: response bodies."""

from pydantic import Field

from app.http.bodies import ResponseBody
from app.identity.schemas import Membership


class SignedIn(ResponseBody):
    """The signed-in user of a cookie session, and how long the session lasts."""

    sessionId: str
    email: str | None = Field(description="Null when the provider's user has no account here yet.")
    name: str | None
    isPlatformAdmin: bool
    memberships: list[Membership]
    expiresAt: int = Field(description="When the session ends whatever happens (ms since the epoch).")
    idleExpiresAt: int = Field(
        description="When the session ends unless a request comes first (ms since the epoch); each request pushes "
        "it on, up to `expiresAt`."
    )
    logoutUrl: str = Field(description="POST here (with `X-CSRF: 1`) to sign out.", examples=["/v1/auth/logout"])


class LoggedOut(ResponseBody):
    endSessionUrl: str | None = Field(
        description="Send the browser here to end its session at the OpenID provider too; null when the provider "
        "offers no end-session endpoint or there was no session."
    )


class SessionSummary(ResponseBody):
    """One browser session: where and when, never its cookie or tokens."""

    id: str
    createdAt: int = Field(description="Sign-in time (ms since the epoch).")
    lastSeenAt: int = Field(description="Last request, to the minute (ms since the epoch).")
    idleExpiresAt: int
    expiresAt: int
    userAgent: str | None
    current: bool = Field(description="Whether this is the session of the request that lists it.")


class AdminSessionSummary(SessionSummary):
    authSubject: str = Field(description="The user's subject at the OpenID provider.")
