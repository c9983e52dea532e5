"""The allowed side of the capabilities matrix, end to end and generated: every operation,
called by every role that holds its capability, gets past authorisation in the BFF *and* in
Convex (which checks the same matrix again). It may still fail on a business rule or on
validation, never with 401/403 or a server error.

Runs on its own embedded backend: the calls really write (and delete) demo data.
"""

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.auth.capabilities import role_can
from app.main import create_app
from app.settings import Settings
from devtools.embedded import EmbeddedBackend, embedded_backend

from .conftest import ADMIN_KEY, as_user

USERS = {
    "platform_admin": "support@platform.test",
    "client_admin": "admin@acme.test",
    "client_user": "staff@acme.test",
    "member": "member@acme.test",
    "sponsor_admin": "sponsor@acme.test",
    "sponsor_user": "sponsor-staff@acme.test",
}


@pytest.fixture(scope="module")
def own_backend() -> Iterator[EmbeddedBackend]:
    with embedded_backend(ADMIN_KEY, seed=True) as running:
        yield running


@pytest.fixture(scope="module")
async def matrix_api(own_backend: EmbeddedBackend, e2e_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(e2e_settings.model_copy(update={"convex_url": own_backend.url}))
    async with LifespanManager(app) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test") as client:
            yield client


async def demo_ids(api: httpx.AsyncClient) -> dict[str, str]:
    admin, member = as_user(USERS["client_admin"]), as_user(USERS["member"])

    async def first(path: str, headers) -> str:
        response = await api.get(f"/v1/clients/acme/{path}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["items"][0]["id"]

    key = await api.post("/v1/clients/acme/api-keys", json={"name": "matrix", "role": "member"}, headers=admin)
    return {
        "client": "acme",
        "courseId": await first("courses?status=published", admin),
        "eventId": await first("events?status=published", admin),
        "ticketId": await first("tickets/mine", member),
        "memberId": (await api.get("/v1/clients/acme/members/me", headers=member)).json()["id"],
        "registrationId": await first("registrations/mine", member),
        "enrollmentId": await first("enrollments/mine", member),
        "sponsorId": await first("sponsors", admin),
        "categoryId": await first("categories", admin),
        "apiKeyId": key.json()["key"]["id"],
    }


async def test_a_foreign_id_in_every_id_route_reads_exactly_like_a_missing_one(matrix_api):
    """Acme's ids used in globex (as globex's platform admin, who holds every capability)."""
    ids = await demo_ids(matrix_api)
    document = (await matrix_api.get("/openapi.json")).json()
    globex_admin = as_user(USERS["platform_admin"])
    not_found = 0
    for path, item in document["paths"].items():
        params = [p for p in re.findall(r"\{(\w+)\}", path) if p != "client"]
        if not params:
            continue
        for method in item:
            body = {} if method in {"post", "put", "patch"} else None

            def url(values: dict[str, str]) -> str:
                return "/v1/clients/globex" + re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), ""), path.removeprefix("/v1/clients/{client}"))

            foreign = await matrix_api.request(method, url(ids), json=body, headers=globex_admin)
            missing = await matrix_api.request(method, url({k: "0" * 20 + "nothing" for k in ids}), json=body, headers=globex_admin)
            same = [{k: v for k, v in r.json().items() if k != "requestId"} for r in (foreign, missing)]
            assert foreign.status_code == missing.status_code, f"{method} {path}"
            assert same[0] == same[1], f"{method} {path}"
            assert foreign.status_code in (404, 422), f"{method} {path}: {foreign.status_code}"
            not_found += foreign.status_code == 404
    assert not_found >= 37  # the rest stop at body validation (422), identical for both


def allowed_calls(document: dict) -> list[tuple[str, str, str]]:
    calls = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            for role in USERS:
                if op.get("x-capabilities") and any(role_can(role, c) for c in op["x-capabilities"]):
                    calls.append((method.upper(), path, role))
    # Destructive calls last, so the others still find their documents.
    return sorted(calls, key=lambda c: c[0] == "DELETE")


async def test_every_role_holding_a_capability_gets_past_authorisation(matrix_api):
    ids = await demo_ids(matrix_api)
    calls = allowed_calls((await matrix_api.get("/openapi.json")).json())
    assert len(calls) > 150
    wrong = []
    for method, path, role in calls:
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        body = {} if method in {"POST", "PUT", "PATCH"} else None
        response = await matrix_api.request(method, url, json=body, headers=as_user(USERS[role]))
        if response.status_code in (401, 403) or response.status_code >= 500:
            wrong.append(f"{method} {path} as {role}: {response.status_code} {response.text[:120]}")
    assert wrong == [], "\n".join(wrong)
