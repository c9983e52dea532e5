"""Problems as the OpenAPI document declares them (app/http/problems.py, app/gateway/errors.py): the
members a Convex rule adds arrive typed (an integer capacity, not 5.0) or not at all, and a
`validation` problem names the field where the request carries it (`query.`, `header.`,
`body.`), or no field when the rule is about the caller rather than the request."""

import json
import re
from pathlib import Path

import httpx
import pytest

from app.http.problems import EXTENSION_MEMBERS
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.courses.test_routes import ACME_ADMIN, ACME_STAFF
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

ROOT = Path(__file__).resolve().parents[2]
ACME = "/v1/clients/acme"
NO_PROFILE = {**ACME_MEMBER, "memberId": None}


def refusing(convex, actor: dict, refused_path: str, error_data: dict) -> list[str]:
    """Convex resolves `actor`, and its function `refused_path` throws ConvexError(`error_data`)."""
    paths: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        path = json.loads(request.content)["path"]
        paths.append(path)
        if path == "identity:resolveActor":
            return convex_value(actor)
        assert path == refused_path, path
        return httpx.Response(
            200, json={"status": "error", "errorMessage": "rule", "errorData": error_data, "logLines": []}
        )

    convex.post("/api/query").mock(side_effect=answer)
    convex.post("/api/mutation").mock(side_effect=answer)
    return paths


async def test_capacity_full_carries_the_capacity_as_an_integer(client, convex):
    # Convex numbers are floats on the wire: 5.0.
    full = {"code": "capacity_full", "message": "The event is full", "capacity": 5.0}
    refusing(convex, ACME_MEMBER, "registrations:registerSelf", full)
    response = await client.post(f"{ACME}/events/e1/registrations", json={}, headers=bearer(make_token()))
    problem = assert_problem(response, 409, "capacity_full")
    assert problem["capacity"] == 5 and isinstance(problem["capacity"], int)
    assert '"capacity":5,' in response.text or response.text.endswith('"capacity":5}')


async def test_members_the_contract_does_not_declare_or_of_another_type_are_left_out(client, convex):
    odd = {"code": "capacity_full", "message": "full", "capacity": "lots", "internalId": "k57;events"}
    refusing(convex, ACME_MEMBER, "registrations:registerSelf", odd)
    response = await client.post(f"{ACME}/events/e1/registrations", json={}, headers=bearer(make_token()))
    problem = assert_problem(response, 409, "capacity_full")
    assert "capacity" not in problem and "internalId" not in problem


async def test_an_invalid_transition_names_both_states(client, convex):
    step = {"code": "invalid_transition", "message": "A ticket cannot go from closed to closed", "from": "closed"}
    refusing(convex, ACME_STAFF, "tickets:setStatus", {**step, "to": "closed"})
    response = await client.post(f"{ACME}/tickets/t1/status", json={"status": "closed"}, headers=bearer(make_token()))
    problem = assert_problem(response, 409, "invalid_transition")
    assert (problem["from"], problem["to"]) == ("closed", "closed")


@pytest.mark.parametrize(
    ("actor", "method", "url", "headers", "refused_path", "field", "named"),
    [
        (ACME_STAFF, "post", f"{ACME}/events", {}, "events:create", "endAt", "body.endAt"),
        (ACME_ADMIN, "get", f"{ACME}/audit-log?entityId=x", {}, "audit:list", "entityId", "query.entityId"),
        # Declared but not sent: still where it belongs.
        (ACME_STAFF, "get", f"{ACME}/events/sponsored", {}, "events:listSponsored", "sponsorId", "query.sponsorId"),
        (
            ACME_STAFF,
            "post",
            f"{ACME}/events",
            {"Idempotency-Key": "k"},
            "idempotency:begin",
            "Idempotency-Key",
            "header.Idempotency-Key",
        ),
        # A member role without a member profile in the client: the request has no field to fix.
        (NO_PROFILE, "get", f"{ACME}/registrations/mine", {}, "registrations:listMine", "memberId", None),
    ],
)
async def test_a_validation_problem_names_the_field_where_the_request_carries_it(
    client, convex, actor, method, url, headers, refused_path, field, named
):
    refusing(convex, actor, refused_path, {"code": "validation", "message": f"{field} is wrong", "field": field})
    body = {"title": "T", "startAt": 1, "endAt": 2} if method == "post" else None
    response = await client.request(method, url, json=body, headers={**bearer(make_token()), **headers})
    problem = assert_problem(response, 422, "validation")
    if named is None:
        assert "errors" not in problem and "field" not in problem
    else:
        assert problem["errors"] == [{"field": named, "message": f"{field} is wrong"}]


def convex_extension_members() -> set[str]:
    """The keys of every `fail(code, message, {...})` extra object in convex/ (tests excluded)."""
    call = re.compile(r'fail\(\s*"\w+",\s*(?:"[^"]*"|`[^`]*`|[\w.]+),\s*\{([^{}]*)\}\s*,?\s*\)', re.S)
    names: set[str] = set()
    for source in (ROOT / "convex").rglob("*.ts"):
        if "tests" in source.parts or "_generated" in source.parts:
            continue
        for extra in call.findall(source.read_text()):
            names |= set(re.findall(r"(?:^|,)\s*(\w+)\s*(?=:|,|$)", extra.strip()))
    return names


def test_every_member_a_convex_rule_or_the_bff_adds_is_declared_and_typed():
    from_convex = convex_extension_members()
    assert {"field", "capability", "entity", "capacity", "from", "to"} <= from_convex  # the scan finds them
    from_bff = {
        name for source in (ROOT / "app").rglob("*.py") for name in re.findall(r'\bextra=\{"(\w+)"', source.read_text())
    }
    assert {"capability", "circuitBreaker"} <= from_bff
    assert (from_convex | from_bff) - set(EXTENSION_MEMBERS) == set()
