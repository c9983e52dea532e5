"""CSRF decisions for cookie-authenticated requests (app/sessions/csrf.py)."""

import pytest
from starlette.datastructures import Headers

from app.sessions.csrf import csrf_refusal

ORIGIN = "https://members.example.org"


def decide(method: str, **headers: str) -> str | None:
    return csrf_refusal(method, Headers({k.replace("_", "-"): v for k, v in headers.items()}), ORIGIN)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_a_safe_method_needs_no_header(method):
    assert decide(method) is None
    assert (
        decide(method, sec_fetch_site="cross-site") is None
    )  # a navigation: SameSite=Strict kept the cookie off anyway


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_change_from_this_origin_with_the_header_passes(method):
    assert decide(method, x_csrf="1", origin=ORIGIN) is None


def test_a_change_without_the_header_is_refused():
    assert "X-CSRF" in (decide("POST", origin=ORIGIN) or "")


@pytest.mark.parametrize("value", ["0", "true", "", "1 "])
def test_the_header_must_be_exactly_1(value):
    assert decide("POST", x_csrf=value, origin=ORIGIN) is not None


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://members.example.org", "https://members.example.org:8443"]
)
def test_another_origin_is_refused_whatever_the_method(origin):
    assert "not this site" in (decide("POST", x_csrf="1", origin=origin) or "")
    assert "not this site" in (decide("GET", origin=origin) or "")


def test_the_origin_compares_case_insensitively():
    assert decide("POST", x_csrf="1", origin=ORIGIN.upper()) is None


def test_without_origin_only_a_same_origin_fetch_passes():
    assert decide("POST", x_csrf="1", sec_fetch_site="same-origin") is None
    for site in ("same-site", "cross-site", "none"):
        assert decide("POST", x_csrf="1", sec_fetch_site=site) is not None
    assert decide("DELETE", x_csrf="1") is not None  # neither header: no proof of where it came from
