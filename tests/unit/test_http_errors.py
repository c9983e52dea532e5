"""Every failure reaches the client as problem+json with a stable code and status."""

import httpx
import pytest

from app.facts import CONVEX_ERROR_CODES
from app.gateway.errors import CONVEX_ERROR_STATUS
from app.main import create_app

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["Cache-Control"] == "no-store"  # it may name the caller's data
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"].endswith(code) and body["detail"] and body["requestId"]
    assert body["requestId"] == response.headers["X-Request-ID"]
    return body


def test_every_convex_error_code_maps_to_one_status():
    assert set(CONVEX_ERROR_STATUS) == set(CONVEX_ERROR_CODES)
    assert all(400 <= status < 500 for status in CONVEX_ERROR_STATUS.values())


async def test_unknown_route_is_a_404_problem(client):
    assert_problem(await client.get("/no/such/thing"), 404, "not_found")


async def test_wrong_method_is_a_405_problem(client):
    assert_problem(await client.delete("/health"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("error_data", "status", "code"),
    [
        ({"code": "not_found", "message": "course not found"}, 404, "not_found"),
        ({"code": "capacity_full", "message": "full"}, 409, "capacity_full"),
        ({"code": "forbidden", "message": "no", "capability": "courses.publish"}, 403, "forbidden"),
        ({"code": "validation", "message": "endAt must be after startAt", "field": "endAt"}, 422, "validation"),
        ({"code": "something_new", "message": "?"}, 502, "upstream_error"),
        ("a plain string", 502, "upstream_error"),
    ],
)
async def test_convex_error_codes_become_their_documented_status(client, convex, error_data, status, code):
    convex.get("/version").mock(return_value=httpx.Response(200, text="1"))
    convex.post("/api/query").mock(
        return_value=httpx.Response(
            560,
            json={"status": "error", "errorMessage": "Uncaught ConvexError", "errorData": error_data, "logLines": []},
        )
    )
    body = assert_problem(await client.get("/ready"), status, code)
    if code == "validation":
        # /ready takes no `endAt`: no field of the request to name (tests/unit/test_problem_contract.py maps them).
        assert "errors" not in body and body["detail"] == "endAt must be after startAt"
    if code == "forbidden":
        assert body["capability"] == "courses.publish"


async def test_an_unexpected_failure_is_a_500_problem_that_reveals_nothing(settings):
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: /etc/passwd line 3")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as client:
        response = await client.get("/boom")
    assert_problem(response, 500, "internal")
    assert "secret internals" not in response.text and "Traceback" not in response.text


async def test_a_body_that_is_not_json_is_400_bad_request_naming_the_body(client):
    response = await client.post(
        "/v1/clients/acme/tickets", content=b'{"subject": "x", ', headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400, "bad_request")
    assert body["errors"] == [{"field": "body", "message": "not valid JSON", "type": "json_invalid"}]
