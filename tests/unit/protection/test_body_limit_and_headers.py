"""The body cap (app/protection/body_limit.py) at its edges, and the security headers
(app/protection/headers.py) as the answer leaves, whatever the route set itself."""

import httpx
import pytest

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex
from tests.unit.protection.conftest import ANSWERS
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

EVENTS = "/v1/clients/acme/events"
CAP = 1000
ADMIN = {**ACME_MEMBER, "role": "client_admin"}


def body_of(size: int) -> bytes:
    """A JSON body of exactly `size` bytes that the events route refuses as invalid (422)."""
    return b'{"title": "' + b"x" * (size - 13) + b'"}'


# --- body cap -----------------------------------------------------------------------------


async def test_a_declared_body_over_the_cap_is_refused_and_the_connection_closed(make_client, convex):
    """The body is not read: the client must not send its next request on this connection."""
    client = await make_client(convex, max_body_bytes=CAP)
    response = await client.post(EVENTS, headers=bearer(make_token()), content=body_of(CAP + 1))
    assert_problem(response, 413, "payload_too_large")
    assert response.headers["Connection"] == "close"
    assert str(CAP) in response.json()["detail"]


async def test_a_content_length_that_is_not_a_number_is_413(make_client, convex):
    fake = FakeConvex(convex, {})
    client = await make_client(convex, max_body_bytes=CAP)
    headers = {**bearer(make_token()), "Content-Type": "application/json", "Content-Length": "1e3"}
    response = await client.post(EVENTS, headers=headers, content=b"{}")
    assert_problem(response, 413, "payload_too_large")
    assert fake.calls == []


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "streamed"])
async def test_a_body_of_exactly_the_cap_goes_through(make_client, convex, streamed):
    FakeConvex(convex, {"identity:resolveActor": ADMIN})
    client = await make_client(convex, max_body_bytes=CAP)
    body = body_of(CAP)
    assert len(body) == CAP

    async def chunks():
        yield body[:600]
        yield body[600:]

    headers = {**bearer(make_token()), "Content-Type": "application/json"}
    response = await client.post(EVENTS, headers=headers, content=chunks() if streamed else body)
    assert_problem(response, 422, "validation")  # reached validation: not refused for its size


async def test_a_streamed_body_is_refused_once_its_chunks_together_cross_the_cap(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": ADMIN})
    client = await make_client(convex, max_body_bytes=CAP)
    body = body_of(CAP + 1)

    async def chunks():
        yield body[:600]
        yield body[600:]

    headers = {**bearer(make_token()), "Content-Type": "application/json"}
    response = await client.post(EVENTS, headers=headers, content=chunks())
    assert_problem(response, 413, "payload_too_large")
    assert str(CAP) in response.json()["detail"]


# --- security headers ---------------------------------------------------------------------

API_POLICY = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


async def test_api_answers_carry_exactly_the_api_policy(client):
    response = await client.get("/v1/me")
    assert {name: response.headers.get_list(name) for name in API_POLICY} == {
        name: [value] for name, value in API_POLICY.items()
    }


async def test_the_policy_replaces_what_a_route_set_and_keeps_its_other_headers(answers, convex):
    own = {"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": "default-src *", "X-Route": "kept"}
    response = await answers.post(ANSWERS, json={"status": 200, "body": "{}", "headers": own})
    assert response.status_code == 200
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers.get_list("content-security-policy") == [API_POLICY["content-security-policy"]]
    assert response.headers["X-Route"] == "kept"
    assert response.headers["Content-Length"] == "2" and response.text == "{}"


async def test_the_docs_assets_get_the_docs_policy(client):
    response = await client.get("/docs/assets/swagger-ui.css")
    assert "script-src 'self' 'unsafe-inline'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_an_error_answer_carries_the_policy_too(client: httpx.AsyncClient):
    response = await client.get("/v1/no-such-resource")
    assert response.status_code == 404
    assert response.headers["Content-Security-Policy"] == API_POLICY["content-security-policy"]
