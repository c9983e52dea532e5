"""Where a browser goes after signing in: only a path of this site (no open redirect)."""

from urllib.parse import urlsplit

MAX_RETURN_TO_CHARS = 2000


def safe_return_to(value: str) -> str | None:
    """`value` when it is an absolute path of this origin, else None.

    Refused: anything not starting with exactly one "/" ("//host" and "/\\host" are other sites
    to a browser), any backslash (browsers read it as "/"), control characters and spaces
    (browsers drop tabs and newlines from URLs, so "/\\t/host" would become "//host"), a scheme
    or a host, and very long values."""
    if not value.startswith("/") or "//" in value or "\\" in value or len(value) > MAX_RETURN_TO_CHARS:
        return None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
