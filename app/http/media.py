"""The media types the API speaks, and what counts as JSON (RFC 6839's `+json` suffix too)."""

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


def is_json(content_type: str) -> bool:
    """Whether a `Content-Type` value names JSON: `application/json` or `application/*+json`,
    parameters and case aside. A type without exactly one `/` names nothing (as the standard
    library's `email.message`, which FastAPI reads it with, takes it for `text/plain`)."""
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type.count("/") != 1:
        return False
    return media_type == JSON or (media_type.startswith("application/") and media_type.endswith("+json"))
