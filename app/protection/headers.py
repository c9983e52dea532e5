"""Security headers on every answer (values from the `secure` library), strict for the API.

API answers are JSON that no browser should render, frame or run: `default-src 'none'`.
Swagger UI is a page that runs its own scripts, so it gets a policy that
allows this origin's scripts and styles (and the inline bootstrap FastAPI writes).
The reference SPA's page (app/spa.py) runs only this origin's files, no inline code, under
Trusted Types: no script on it can turn a string into HTML.
"""

from secure import (
    ContentSecurityPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)

DOCS_PATHS = ("/docs",)
# The SPA's page and its built files (app/spa.py). Only the page is a document: a policy on a
# script or a style sheet does nothing, so the assets keep the API's.
SPA_PAGE, SPA_ASSETS = "/", "/assets/"


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
SPA_HEADERS = _headers(
    ContentSecurityPolicy()
    .default_src("'self'")
    .object_src("'none'")
    .base_uri("'none'")
    .form_action("'self'")
    .frame_ancestors("'none'")
    .require_trusted_types_for("'script'")
    .trusted_types("'none'")
)


class HeaderPolicy:
    """One set of headers as raw bytes, made once: `secure`'s own middleware re-encodes and
    re-normalises every header name and value on every answer (about 25 µs a request,
    docs/performance.md). Its values replace any the answer already has, as `secure`'s do."""

    def __init__(self, headers: Secure) -> None:
        self.raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.headers.items()
        ]
        self.names = frozenset(name for name, _ in self.raw)

    def apply(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        kept = [(name, value) for name, value in headers if name.lower() not in self.names]
        return [*kept, *self.raw]


API_POLICY, DOCS_POLICY, SPA_POLICY = HeaderPolicy(API_HEADERS), HeaderPolicy(DOCS_HEADERS), HeaderPolicy(SPA_HEADERS)


def policy_for(path: str) -> HeaderPolicy:
    """The headers an answer at `path` gets (applied to every answer by app/http/edge.py)."""
    return SPA_POLICY if path == SPA_PAGE else DOCS_POLICY if path.startswith(DOCS_PATHS) else API_POLICY
