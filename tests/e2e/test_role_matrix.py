"""The capabilities matrix, end to end and generated from the OpenAPI and the capabilities
file. Every operation called by every role that holds its capability gets past authorisation
in the BFF *and* in Convex (which checks the same matrix again): it may still fail on a
business rule or on validation, never with 401/403 or a server error. Every operation called
by every role that holds none of its capabilities is a 403 `forbidden` and writes nothing.

Runs on its own embedded backend: the calls really write (and delete) demo data.
"""

import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.auth.capabilities import role_can
from app.domains import DOMAINS
from app.main import create_app
from app.settings import Settings
from devtools.embedded import EmbeddedBackend, embedded_backend
from tests.documented import documented
from tests.e2e.conftest import ADMIN_KEY, as_user, snapshot
from tests.sse_client import open_sse

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


@dataclass
class Matrix:
    app: Any
    api: httpx.AsyncClient
    backend_url: str

    async def call(self, method: str, url: str, headers: dict[str, str], body: dict | None) -> tuple[int, dict | None]:
        """Status and problem body; a live stream is opened, its status read, and closed."""
        if url.endswith("/stream"):
            async with open_sse(self.app, url, headers) as stream:
                pass
            return stream.status, None if stream.status == 200 else json.loads(stream.body)
        response = await self.api.request(method, url, json=body, headers=headers)
        is_json = response.headers.get("content-type", "").endswith("json")  # not the CSV export
        return response.status_code, response.json() if is_json and response.content else None


@pytest.fixture(scope="module")
async def matrix(own_backend: EmbeddedBackend, e2e_settings: Settings) -> AsyncIterator[Matrix]:
    app = create_app(e2e_settings.model_copy(update={"convex_url": own_backend.url}))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test") as client,
    ):
        yield Matrix(manager.app, client, own_backend.url)


async def demo_ids(api: httpx.AsyncClient) -> dict[str, str]:
    """An acme id for every id path parameter: the demo document its domain's examples give it
    (app/<domain>/__init__.py, the first operation naming the parameter; the OpenAPI document
    holds an example for every path parameter but those it says why not), and an API key, a webhook
    endpoint and a delivery made here, the demo data having none. Each is read back as acme's, so
    that an example naming no document of acme's cannot pass a foreign id off as a missing one."""
    admin = as_user(USERS["client_admin"])
    ids = {"client": "acme"}
    for domain in DOMAINS:
        for chosen in domain.examples.parameters.values():
            for name, value in chosen.items():
                ids.setdefault(name, value)
    key = await api.post("/v1/clients/acme/api-keys", json={"name": "matrix", "role": "member"}, headers=admin)
    ids["apiKeyId"] = key.json()["key"]["id"]
    hook = {"url": "https://crm.example.com/hooks", "events": ["event.published"]}
    ids["webhookId"] = (await api.post("/v1/clients/acme/webhooks", json=hook, headers=admin)).json()["id"]
    pinged = await api.post(f"/v1/clients/acme/webhooks/{ids['webhookId']}/ping", headers=admin)
    ids["deliveryId"] = pinged.json()["id"]
    read = set()
    for path, item in (await api.get("/openapi.json")).json()["paths"].items():
        names = [name for name in re.findall(r"\{(\w+)\}", path) if name != "client"]
        if not names or "get" not in item or "text/event-stream" in item["get"]["responses"]["200"].get("content", {}):
            continue
        response = await api.get(re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path), headers=admin)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:200]}"
        read.update(names)
    assert set(ids) - {"client", "apiKeyId", "deliveryId"} <= read
    return ids


# The id routes outside a client: a session belongs to a user, not a client, and
# tests/e2e/auth/test_sign_in.py ends one of another user's (404) and a platform admin's (only they may).
USER_SCOPED_ID_ROUTES = {"/v1/me/sessions/{sessionId}", "/v1/admin/sessions/{sessionId}"}


async def test_a_foreign_id_in_every_id_route_reads_exactly_like_a_missing_one(matrix):
    """Acme's ids used in globex (as globex's platform admin, who holds every capability), in
    every operation of every client route with an id."""
    ids = await demo_ids(matrix.api)
    document = (await matrix.api.get("/openapi.json")).json()
    globex_admin = as_user(USERS["platform_admin"])
    client_routes = {path: item for path, item in document["paths"].items() if path.startswith("/v1/clients/{client}/")}
    id_routes = {path: item for path, item in client_routes.items() if re.search(r"\{(?!client\})\w+\}", path)}
    outside = {p for p in document["paths"] if not p.startswith("/v1/clients/{client}/") and "{" in p}
    assert outside == USER_SCOPED_ID_ROUTES
    answers: Counter[int] = Counter()
    before = snapshot(matrix.backend_url)
    for path, item in id_routes.items():
        for method in item:
            body = {} if method in {"post", "put", "patch"} else None
            in_globex = path.replace("{client}", "globex")
            assert all(name in ids for name in re.findall(r"\{(\w+)\}", in_globex)), path
            foreign = await matrix.call(
                method, re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], in_globex), globex_admin, body
            )
            missing = await matrix.call(
                method, re.sub(r"\{(\w+)\}", "0" * 20 + "nothing", in_globex), globex_admin, body
            )
            same = [{k: v for k, v in (problem or {}).items() if k != "requestId"} for _, problem in (foreign, missing)]
            assert foreign[0] == missing[0], f"{method} {path}"
            assert same[0] == same[1], f"{method} {path}"
            answers[foreign[0]] += 1
    # Each a 404, but for operations whose empty body stops at validation (422), identically for both.
    assert set(answers) <= {404, 422}, answers
    measured = (len(id_routes), answers.total(), answers[404])
    assert measured == documented(
        "security.md", r"(\d+) client paths with an id, (\d+) operations, (\d+) of them 404"
    ), f"measured {measured}: paths, operations, 404s"
    assert snapshot(matrix.backend_url) == before, "a call with a foreign id wrote something"


def calls_where(document: dict, allowed: bool) -> list[tuple[str, str, str]]:
    """(method, path, role) for every operation and role, from the OpenAPI's x-capabilities
    and the capabilities file: the roles that hold one of them, or the roles that hold none."""
    calls = [
        (method.upper(), path, role)
        for path, item in document["paths"].items()
        for method, op in item.items()
        for role in USERS
        if op.get("x-capabilities") and any(role_can(role, c) for c in op["x-capabilities"]) == allowed
    ]
    # Destructive calls last, so the others still find their documents.
    return sorted(calls, key=lambda c: c[0] == "DELETE")


# Runs before the allowed side, whose DELETE calls remove the demo documents it needs.
async def test_every_role_without_the_capability_is_refused_with_403_and_nothing_changes(matrix):
    ids = await demo_ids(matrix.api)
    calls = calls_where((await matrix.api.get("/openapi.json")).json(), allowed=False)
    assert (len(calls),) == documented("security.md", r"(\d+) refused role . operation pairs"), len(calls)
    before = snapshot(matrix.backend_url)
    wrong = []
    for method, path, role in calls:
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        status, problem = await matrix.call(
            method, url, as_user(USERS[role]), {} if method in {"POST", "PUT", "PATCH"} else None
        )
        if status != 403 or (problem or {}).get("code") != "forbidden":
            wrong.append(f"{method} {path} as {role}: {status} {str(problem)[:120]}")
    assert wrong == [], "\n".join(wrong)
    assert snapshot(matrix.backend_url) == before, "a refused call wrote something"


async def test_every_role_holding_a_capability_gets_past_authorisation(matrix):
    """Each with the body Swagger UI prefills (the operation's example), so that it passes the
    BFF's validation and reaches Convex, which checks the capability again. Some examples set a
    field that needs more than the operation does (a member may register only itself, only close
    a ticket): such a 403 must name a capability the role lacks, never one it holds."""
    ids = await demo_ids(matrix.api)
    document = (await matrix.api.get("/openapi.json")).json()
    calls = calls_where(document, allowed=True)
    wrong, answers = [], Counter[str]()
    for method, path, role in calls:
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        request_body = document["paths"][path][method.lower()].get("requestBody")
        body = request_body["content"]["application/json"]["example"] if request_body else None
        status, problem = await matrix.call(method, url, as_user(USERS[role]), body)
        needs = problem.get("capability") if isinstance(problem, dict) else None
        if status == 403 and isinstance(needs, str) and not role_can(role, needs):
            answers["a field needs more"] += 1
        elif status in (401, 403) or status >= 500 or (status == 422 and not from_convex(problem)):
            wrong.append(f"{method} {path} as {role}: {status} {str(problem)[:160]}")
        else:
            answers["2xx" if status < 300 else "a business rule"] += 1
    assert wrong == [], "\n".join(wrong)
    measured = (len(calls), answers["2xx"], answers["a field needs more"])
    assert measured == (
        *documented("security.md", r"(\d+) allowed pairs"),
        *documented("security.md", r"(\d+) of them 2xx"),
        *documented("security.md", r"(\d+) refused for a field"),
    ), f"measured {measured}: pairs, 2xx, fields; all answers {dict(answers)}"


def from_convex(problem: dict | None) -> bool:
    """A 422 of a rule Convex checks, not of the BFF's validation of the request: the BFF's own
    (pydantic's) gives each field error a `type`, a Convex rule's field error has none
    (app/http/problems.py, app/gateway/errors.py)."""
    errors = problem.get("errors") if isinstance(problem, dict) else None
    return not any(error.get("type") for error in errors or [])
