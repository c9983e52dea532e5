"""Generated from the OpenAPI document and the capabilities matrix: every operation, every
role that lacks its capability, gets 403 naming it, before any data call."""

import json
import re

import httpx
import pytest

from app.auth.capabilities import role_can, roles
from app.main import create_app
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.tokens import make_token


def refusals() -> list[tuple[str, str, str, list[str]]]:
    return [
        (method.upper(), path, role, needed)
        for path, item in create_app().openapi()["paths"].items()
        for method, op in item.items()
        if (needed := op.get("x-capabilities"))
        for role in roles()
        if not any(role_can(role, c) for c in needed)
    ]


CASES = refusals()


def test_the_generated_suite_covers_many_pairs():
    assert len(CASES) > 150


@pytest.mark.parametrize(("method", "path", "role", "needed"), CASES, ids=[f"{m} {p} as {r}" for m, p, r, _ in CASES])
async def test_a_role_without_the_capability_is_refused_before_any_data_call(
    client, convex, method, path, role, needed
):
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append(body["path"])
        return convex_value({**ACME_MEMBER, "role": role})

    convex.post("/api/query").mock(side_effect=answer)
    convex.post("/api/mutation").mock(side_effect=answer)
    url = re.sub(r"\{(\w+)\}", lambda m: "acme" if m.group(1) == "client" else "k1x", path)
    response = await client.request(
        method, url, json={} if method in {"POST", "PUT", "PATCH"} else None, headers=bearer(make_token())
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    assert set(response.json()["capability"].split(" or ")) & set(needed)
    assert calls == ["identity:resolveActor"]
