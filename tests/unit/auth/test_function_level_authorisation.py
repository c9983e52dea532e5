"""Generated from the OpenAPI document and the capabilities matrix: every operation, every
role that lacks its capability, gets 403 naming it, before any data call.

The cases share one app (building one costs more than a case). None reuses another's state: each
signs in as a principal of its own, so its actor is looked up in Convex (the only call it may make),
never taken from the actor cache or counted against another case's look-up budget."""

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import respx

from app.auth.capabilities import role_can, roles
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.conftest import CONVEX_URL, default_document, serve, unit_settings
from tests.unit.tokens import make_token


def refusals() -> list[tuple[str, str, str, list[str]]]:
    return [
        (method.upper(), path, role, needed)
        for path, item in default_document()["paths"].items()
        for method, op in item.items()
        if (needed := op.get("x-capabilities"))
        for role in roles()
        if not any(role_can(role, c) for c in needed)
    ]


CASES = refusals()


def test_the_generated_suite_covers_many_pairs():
    assert len(CASES) > 150


@dataclass
class Convex:
    """Convex on the wire for the module: answers every call with an actor of `role`, records it."""

    role: str = "member"
    calls: list[str] = field(default_factory=list)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(json.loads(request.content)["path"])
        return convex_value({**ACME_MEMBER, "role": self.role})


@pytest.fixture(scope="module")
async def shared() -> AsyncIterator[tuple[httpx.AsyncClient, Convex]]:
    convex = Convex()
    router = respx.MockRouter(base_url=CONVEX_URL, assert_all_called=False)
    router.post("/api/query").mock(side_effect=convex.answer)
    router.post("/api/mutation").mock(side_effect=convex.answer)
    manager, client = await serve(unit_settings(), router)
    yield client, convex
    await client.aclose()
    await manager.__aexit__(None, None, None)


@pytest.mark.parametrize(("method", "path", "role", "needed"), CASES, ids=[f"{m} {p} as {r}" for m, p, r, _ in CASES])
async def test_a_role_without_the_capability_is_refused_before_any_data_call(shared, method, path, role, needed):
    client, convex = shared
    convex.role = role
    convex.calls.clear()
    # A subject no other case signs in as: this case's actor cannot come from the cache.
    token = make_token(sub=f"user|{role}|{method} {path}")
    url = re.sub(r"\{(\w+)\}", lambda m: "acme" if m.group(1) == "client" else "k1x", path)
    response = await client.request(
        method, url, json={} if method in {"POST", "PUT", "PATCH"} else None, headers=bearer(token)
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    assert set(response.json()["capability"].split(" or ")) & set(needed)
    assert convex.calls == ["identity:resolveActor"]
