"""Sign-in at the BFF and browser sessions (docs/spa.md; convex/sessions.ts).

`/v1/auth/*` is what a browser app calls: sign in (a redirect to the OpenID provider and back),
who is signed in, sign out, and the provider's back-channel logout. `/v1/me/sessions` lets a
user see and end their own sessions; `/v1/admin/sessions`, a platform admin anyone's.
"""

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from app.auth.principal import SESSION_COOKIE, Principal, session_cookie_scheme, unauthenticated
from app.deps import AppServices, CurrentPrincipal
from app.http.problems import FieldError, Problem, declares_codes, problem_responses
from app.http.semantics import OperationRoute
from app.identity.routes import get_me
from app.services import Services
from app.sessions.manager import (
    LOGIN_COOKIE,
    LOGIN_TTL_S,
    LOGOUT_PATH,
    SessionManager,
    login_failed,
    provider_unavailable,
)
from app.sessions.oidc import ProviderUnavailable, TokenInvalid
from app.sessions.return_to import safe_return_to
from app.sessions.schemas import AdminSessionSummary, LoggedOut, SessionSummary, SignedIn
from app.sessions.store import Session

router = APIRouter(route_class=OperationRoute)

FORM = "application/x-www-form-urlencoded"
# Declared once in app/openapi/document.py's components.headers.
SETS_COOKIE = {"Set-Cookie": {"$ref": "#/components/headers/Set-Cookie"}}
# An operation answered with 204 and no body.
NO_CONTENT: dict[str, Any] = {"status_code": status.HTTP_204_NO_CONTENT, "response_class": Response}
SESSION_ID = Path(description="A session's `id`, from `listMySessions` or `listUserSessions`.", max_length=100)


def sign_in_manager(services: Services) -> SessionManager:
    sessions = services.sessions
    if sessions is None:
        raise Problem("not_found", "Sign-in at the BFF is not configured on this deployment (OIDC_ISSUER).")
    return sessions


def set_session_cookie(response: Response, handle: str, max_age_s: float) -> None:
    # `__Host-`: Secure, Path=/ and no Domain, so no other host or path can set or read it.
    response.set_cookie(
        SESSION_COOKIE, handle, max_age=int(max_age_s), path="/", secure=True, httponly=True, samesite="strict"
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=True, httponly=True, samesite="strict" if name == SESSION_COOKIE else "lax"
    )


# --- sign-in ------------------------------------------------------------------------------------


# Not in the OpenAPI document, like the callback: a page navigation that answers only with a redirect
# to another site (a generated client's `fetch` could not follow it), documented in docs/spa.md.
@router.get("/v1/auth/login", include_in_schema=False, response_class=Response)
async def sign_in(
    request: Request,
    services: AppServices,
    returnTo: Annotated[
        str, Query(description="A path of this site to come back to once signed in.", examples=["/events"])
    ] = "/",
) -> Response:
    """Starts the authorization code flow with PKCE at the OpenID provider; the browser comes back to `returnTo`,
    which must be a path of this site (else 400 `bad_request`: never an open redirect), signed in."""
    sessions = sign_in_manager(services)
    return_to = safe_return_to(returnTo)
    if return_to is None:
        raise Problem(
            "bad_request",
            "returnTo must be a path of this site, starting with a single '/'.",
            errors=[FieldError(field="query.returnTo", message="not a path of this site", type="return_to")],
        )
    guard = services.source_guard
    guard.spend_sign_in(guard.source_of(request))
    started = await sessions.start_login(return_to)
    response = RedirectResponse(started.redirect_url, status_code=status.HTTP_302_FOUND)
    # Lax, unlike the session cookie: it must come back on the provider's redirect, a cross-site navigation.
    response.set_cookie(
        LOGIN_COOKIE, started.binding, max_age=LOGIN_TTL_S, path="/", secure=True, httponly=True, samesite="lax"
    )
    return response


# Not in the OpenAPI document: it is the provider's redirect target, not an operation a client calls, and
# it must ignore response parameters it does not know (OAuth 2.1 §4.1.2), which the API's strict query
# parameter check (app/http/semantics.py) would refuse.
@router.get("/v1/auth/callback", include_in_schema=False, response_class=Response)
async def finish_sign_in(request: Request, services: AppServices) -> Response:
    sessions = sign_in_manager(services)
    params = request.query_params
    state = params.get("state")
    clear_login = {"Set-Cookie": f"{LOGIN_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=lax"}
    try:
        if not state:
            raise login_failed("The provider's answer has no state.")
        if (error := params.get("error")) is not None:
            await sessions.store.consume_login(state)  # this attempt is over
            description = params.get("error_description")
            raise login_failed(
                f"The provider ended the sign-in: {error}" + (f" ({description})." if description else ".")
            )
        code = params.get("code")
        if not code:
            raise login_failed("The provider's answer has no authorization code.")
        finished = await sessions.finish_login(
            state=state,
            code=code,
            issuer=params.get("iss"),
            binding=request.cookies.get(LOGIN_COOKIE),
            user_agent=request.headers.get("user-agent"),
        )
    except Problem as problem:
        problem.headers.update(clear_login)
        raise
    response = RedirectResponse(finished.return_to, status_code=status.HTTP_302_FOUND)
    set_session_cookie(response, finished.handle, sessions.absolute_timeout_s)
    clear_cookie(response, LOGIN_COOKIE)
    return response


# --- the signed-in session ----------------------------------------------------------------------


@router.get(
    "/v1/auth/session",
    tags=["auth"],
    operation_id="getSession",
    summary="Who is signed in, and until when",
    response_model=SignedIn,
    responses=problem_responses(401, 403, 502, 503, 504),
)
async def get_session(request: Request, principal: CurrentPrincipal, services: AppServices) -> SignedIn:
    """The signed-in user of the session cookie (as `getMe` says it: email, name, platform-admin flag, memberships),
    when the session ends (`expiresAt`, and `idleExpiresAt` unless a request comes first) and where to sign out. 401
    `unauthenticated` when there is no live session: an SPA calls it first, and on 401 offers to sign in. A request
    with a bearer token or an API key has no session, so it gets 401 too."""
    session: Session | None = getattr(request.state, "session", None)
    if principal.session_id is None or session is None:
        raise unauthenticated("No session: sign in at /v1/auth/login.")
    me = await get_me(request, principal, services)
    return SignedIn(
        **me.model_dump(exclude={"kind"}),  # the user as `getMe` says it
        sessionId=session.id,
        expiresAt=session.absolute_expires_at,
        idleExpiresAt=session.idle_expires_at,
        logoutUrl=LOGOUT_PATH,
    )


@router.post(
    "/v1/auth/logout",
    tags=["auth"],
    operation_id="signOut",
    summary="Sign out: end the session",
    response_model=LoggedOut,
    responses={200: {"headers": SETS_COOKIE}, **problem_responses(403, 404, 502, 503, 504)},
)
async def sign_out(
    request: Request,
    services: AppServices,
    response: Response,
    handle: Annotated[str | None, Depends(session_cookie_scheme)],
) -> LoggedOut:
    """Ends the session of the cookie and clears the cookie; every BFF process refuses it within `SESSION_CACHE_TTL_S`
    seconds, and its live streams end. Send `X-CSRF: 1`. `endSessionUrl`, when not null, is the provider's end-session
    page: send the browser there to sign out of the provider as well, after which it comes back to this site's `/`.
    Without a session it still answers 200 (signing out twice is harmless)."""
    sessions = sign_in_manager(services)
    end_session_url = None
    if handle is not None:
        refusal = sessions.csrf_refusal(request)
        if refusal is not None:
            raise Problem("csrf_failed", refusal)
        end_session_url = await sessions.logout(handle)
    clear_cookie(response, SESSION_COOKIE)
    return LoggedOut(endSessionUrl=end_session_url)


@router.post(
    "/v1/auth/backchannel-logout",
    tags=["auth"],
    operation_id="backchannelLogout",
    summary="OpenID Connect Back-Channel Logout: the provider ends sessions",
    response_class=Response,
    responses={
        200: {"description": "OK: the sessions the logout token names have ended."},
        **problem_responses(400, 404, 503),
    },
    openapi_extra={
        **declares_codes("invalid_logout_token"),
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {"logout_token": {"type": "string", "description": "A signed logout token."}},
                        "required": ["logout_token"],
                    }
                }
            },
        },
    },
)
async def backchannel_logout(request: Request, services: AppServices) -> Response:
    """Called by the OpenID provider, server to server, when a user signs out there (OpenID Connect Back-Channel Logout
    1.0): the logout token is verified (signature against the provider's keys, issuer, audience, issue time, the logout
    event, `sid` and/or `sub`, no `nonce`, not seen before) and the sessions it names end. Not for browsers."""
    # Refusals are problem+json like every error of this API rather than the spec's `{"error": "invalid_request"}`:
    # the spec makes that body optional (§2.8) and providers act on the status alone, which is 400 either way.
    sessions = sign_in_manager(services)
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != FORM:
        raise invalid_logout_token(f"The body must be {FORM}.")
    try:
        form = parse_qs((await request.body()).decode("ascii"), max_num_fields=10, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise invalid_logout_token("The body is not a form.") from None
    tokens = form.get("logout_token", [])
    if len(tokens) != 1:
        raise invalid_logout_token("The form must carry one logout_token.")
    try:
        await sessions.backchannel_logout(tokens[0])
    except TokenInvalid as invalid:
        raise invalid_logout_token(f"The logout token failed verification: {invalid}.") from None
    except ProviderUnavailable as error:
        raise provider_unavailable(str(error)) from None
    return Response(status_code=status.HTTP_200_OK, headers={"Cache-Control": "no-store"})


def invalid_logout_token(detail: str) -> Problem:
    return Problem("invalid_logout_token", detail)


# --- sessions, as their user and as a platform admin sees them ----------------------------------


def summary(session: Session, principal: Principal) -> dict[str, Any]:
    return {
        "id": session.id,
        "createdAt": session.created_at,
        "lastSeenAt": session.last_seen_at,
        "idleExpiresAt": session.idle_expires_at,
        "expiresAt": session.absolute_expires_at,
        "userAgent": session.user_agent,
        "current": session.id == principal.session_id,
    }


def require_user(principal: Principal) -> str:
    if principal.kind != "user" or principal.subject is None:
        raise Problem("forbidden", "Sessions are a signed-in user's; an API key has none.")
    return principal.subject


async def require_platform_admin(request: Request, principal: Principal, services: Services) -> None:
    require_user(principal)
    if not (await get_me(request, principal, services)).isPlatformAdmin:
        raise Problem("forbidden", "Only platform admins see and end other users' sessions.")


async def end_session(services: Services, session_id: str, *, auth_subject: str | None, reason: str) -> None:
    """Ends a live session, only `auth_subject`'s when given: another user's reads as missing, 404."""
    if not await services.session_store.revoke_by_id(session_id, auth_subject=auth_subject, reason=reason):
        raise Problem("not_found", f"session {session_id} not found", extra={"entity": "session"})


@router.get(
    "/v1/me/sessions",
    tags=["sessions"],
    operation_id="listMySessions",
    summary="My live sessions",
    response_model=list[SessionSummary],
    responses=problem_responses(401, 403, 502, 503, 504),
)
async def list_my_sessions(
    request: Request, services: AppServices, principal: CurrentPrincipal
) -> list[SessionSummary]:
    """The caller's live browser sessions, newest first, with the one making this request marked `current`: a user
    who sees one they do not recognise ends it with `endMySession`. Works with a bearer token too."""
    sessions = await services.session_store.list_for_subject(require_user(principal))
    return [SessionSummary(**summary(session, principal)) for session in sessions]


@router.delete(
    "/v1/me/sessions/{sessionId}",
    tags=["sessions"],
    operation_id="endMySession",
    summary="End one of my sessions",
    **NO_CONTENT,
    responses={204: {"headers": SETS_COOKIE}, **problem_responses(401, 403, 404, 502, 503, 504)},
)
async def end_my_session(
    request: Request, services: AppServices, principal: CurrentPrincipal, sessionId: Annotated[str, SESSION_ID]
) -> Response:
    """Ends one of the caller's sessions: every BFF process refuses it within `SESSION_CACHE_TTL_S` seconds and its
    live streams end. Another user's session reads as 404 `not_found`, exactly like a missing one. Ending the current
    session also clears its cookie."""
    await end_session(services, sessionId, auth_subject=require_user(principal), reason="user")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if sessionId == principal.session_id:
        clear_cookie(response, SESSION_COOKIE)
    return response


@router.get(
    "/v1/admin/sessions",
    tags=["sessions"],
    operation_id="listUserSessions",
    summary="A user's live sessions",
    response_model=list[AdminSessionSummary],
    responses=problem_responses(401, 403, 422, 502, 503, 504),
)
async def list_user_sessions(
    request: Request,
    services: AppServices,
    principal: CurrentPrincipal,
    email: Annotated[
        str, Query(min_length=3, max_length=254, description="The user's email.", examples=["member@acme.test"])
    ],
) -> list[AdminSessionSummary]:
    """The live browser sessions of the user with this email, newest first (none for an unknown email). Platform
    admins only: anyone else gets 403 `forbidden`."""
    await require_platform_admin(request, principal, services)
    sessions = await services.session_store.list_for_email(email)
    return [
        AdminSessionSummary(**summary(session, principal), authSubject=session.auth_subject) for session in sessions
    ]


@router.delete(
    "/v1/admin/sessions/{sessionId}",
    tags=["sessions"],
    operation_id="endUserSession",
    summary="End any user's session",
    **NO_CONTENT,
    responses=problem_responses(401, 403, 404, 502, 503, 504),
)
async def end_user_session(
    request: Request,
    services: AppServices,
    principal: CurrentPrincipal,
    sessionId: Annotated[str, SESSION_ID],
) -> Response:
    """Ends a session, whoever's it is (a stolen laptop, an account under investigation): every BFF process refuses it
    within `SESSION_CACHE_TTL_S` seconds and its live streams end. Platform admins only."""
    await require_platform_admin(request, principal, services)
    await end_session(services, sessionId, auth_subject=None, reason="admin")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
