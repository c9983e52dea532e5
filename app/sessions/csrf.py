"""Cross-site request forgery defences for cookie-authenticated requests (docs/spa.md).

The cookie is SameSite=Strict, so browsers leave it off cross-site requests. On top of that,
as the OAuth browser-based-apps BCP's BFF section advises:

- a request that declares another origin (`Origin`) is refused whatever its method: the cookie
  is for this site's own pages; other origins use bearer tokens;
- a request that may change something (not GET, HEAD or OPTIONS) must carry `X-CSRF: 1`, a
  header no form, link or image can send and that a foreign page cannot add without a CORS
  preflight (which this origin never approves for it), and must come from this origin: `Origin`
  equal to PUBLIC_ORIGIN or, from a browser that sends none, `Sec-Fetch-Site: same-origin`.
"""

from collections.abc import Mapping

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF"
CSRF_HEADER_VALUE = "1"


def csrf_refusal(method: str, headers: Mapping[str, str], public_origin: str) -> str | None:
    """Why a cookie-authenticated request is refused, or None when it may proceed. `headers`
    are looked up by lower-case name (Starlette's Headers are)."""
    origin = headers.get("origin")
    if origin is not None and origin.lower() != public_origin:
        return f"Origin {origin} is not this site ({public_origin}): a session cookie works only from its own pages."
    if method.upper() in SAFE_METHODS:
        return None
    if headers.get(CSRF_HEADER.lower()) != CSRF_HEADER_VALUE:
        return f"A request that changes something with the session cookie needs the header {CSRF_HEADER}: 1."
    if origin is None and headers.get("sec-fetch-site") != "same-origin":
        return "The request names neither its Origin nor Sec-Fetch-Site: same-origin."
    return None
