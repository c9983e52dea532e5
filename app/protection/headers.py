"""Security headers on every answer (the `secure` library), strict for the API.

API answers are JSON that no browser should render, frame or run: `default-src 'none'`.
Swagger UI is a page that runs its own scripts, so it gets a policy that
allows this origin's scripts and styles (and the inline bootstrap FastAPI writes).
"""

from secure import (
    ContentSecurityPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)
from secure.middleware import SecureASGIMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

DOCS_PATHS = ("/docs",)


def _headers(csp: ContentSecurityPolicy) -> Secure:
    return Secure(
        csp=csp,
        hsts=StrictTransportSecurity().max_age(31_536_000).include_subdomains(),
        referrer=ReferrerPolicy().no_referrer(),
        xcto=XContentTypeOptions().nosniff(),
        xfo=XFrameOptions().deny(),
    )


API_HEADERS = _headers(ContentSecurityPolicy().default_src("'none'").frame_ancestors("'none'"))
DOCS_HEADERS = _headers(
    ContentSecurityPolicy()
    .default_src("'self'")
    .script_src("'self'", "'unsafe-inline'")
    .style_src("'self'", "'unsafe-inline'")
    .img_src("'self'", "data:")
    .frame_ancestors("'none'")
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self._api = SecureASGIMiddleware(app, secure=API_HEADERS)
        self._docs = SecureASGIMiddleware(app, secure=DOCS_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        docs = scope["type"] == "http" and scope["path"].startswith(DOCS_PATHS)
        # secure types `send` as taking any object, where Starlette's takes a message; it sends only messages.
        await (self._docs if docs else self._api)(scope, receive, send)  # type: ignore[arg-type]
