"""Property-level authorisation (OWASP API3), generated from the OpenAPI document: no body takes
a field it does not declare (mass assignment), and personal data reaches only those whose role
may read it: never another member, never a sponsor."""

import re

import pytest

from app.auth.capabilities import role_can
from tests.documented import documented
from tests.e2e.conftest import as_user, snapshot

ADMIN = as_user("admin@acme.test")
# For each operation, a user whose role may call it, so the body is what gets judged.
CALLERS = {"client_admin": "admin@acme.test", "member": "member@acme.test", "sponsor_admin": "sponsor@acme.test"}
PROTECTED_FIELDS = ("clientId", "status", "cpdPoints", "role", "isPlatformAdmin", "memberId", "userId")
OUTSIDERS = ["member@acme.test", "sponsor@acme.test", "sponsor-staff@acme.test"]


async def openapi(api) -> dict:
    return (await api.get("/openapi.json")).json()


def body_schema(document: dict, operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    ref = content["schema"].get("$ref")
    return document["components"]["schemas"][ref.split("/")[-1]] if ref else content["schema"]


def fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "acme" if m.group(1) == "client" else "0" * 20 + "nothing", path)


def caller(operation: dict) -> dict[str, str]:
    capabilities = operation.get("x-capabilities") or []
    role = next((r for r in CALLERS if any(role_can(r, c) for c in capabilities)), "client_admin")
    return as_user(CALLERS[role])


async def test_no_body_accepts_a_field_it_does_not_declare(api, backend):
    document = await openapi(api)
    tried, operations, wrong = 0, set(), []
    before = snapshot(backend.url)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            schema = body_schema(document, operation)
            if schema is None:
                continue
            for name in PROTECTED_FIELDS:
                if name in schema.get("properties", {}):
                    continue  # declared: its rules are tested with the resource
                tried += 1
                operations.add(operation["operationId"])
                response = await api.request(method, fill(path), json={name: "x"}, headers=caller(operation))
                fields = [e["field"] for e in response.json().get("errors") or []]
                if response.status_code != 422 or f"body.{name}" not in fields:
                    wrong.append(f"{method.upper()} {path} with {name}: {response.status_code} {fields}")
    assert wrong == [], "\n".join(wrong)
    measured = (tried, len(operations))
    assert measured == documented("security.md", r"(\d+) tries\*\* over (\d+) operations"), measured
    assert snapshot(backend.url) == before


def carries_personal_data(document: dict, node, seen: tuple[str, ...] = ()) -> bool:
    """Whether a response schema holds a person's email anywhere inside it."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].split("/")[-1]
            return name not in seen and carries_personal_data(
                document, document["components"]["schemas"][name], (*seen, name)
            )
        if "email" in node.get("properties", {}):
            return True
        return any(carries_personal_data(document, value, seen) for value in node.values())
    if isinstance(node, list):
        return any(carries_personal_data(document, value, seen) for value in node)
    return False


@pytest.mark.parametrize("outsider", OUTSIDERS)
async def test_personal_data_of_other_members_never_reaches_members_or_sponsors(api, outsider):
    document = await openapi(api)
    other = (await api.get("/v1/clients/acme/members/me", headers=as_user("member2@acme.test"))).json()
    course = (await api.get("/v1/clients/acme/courses", params={"status": "published"}, headers=ADMIN)).json()["items"][
        0
    ]
    event = (await api.get("/v1/clients/acme/events", params={"status": "published"}, headers=ADMIN)).json()["items"][0]
    ids = {"client": "acme", "memberId": other["id"], "courseId": course["id"], "eventId": event["id"]}
    tried = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is None or not carries_personal_data(
            document, operation["responses"].get("200", {}).get("content")
        ):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        response = await api.get(url, headers=as_user(outsider))
        tried.append(path)
        assert other["email"] not in response.text, f"{path} showed member2's email to {outsider}"
        # The caller's own data (`.../me`, `/v1/me/...`, its browser session) is theirs to read.
        if not (path.endswith("/me") or path.startswith(("/v1/me/", "/v1/auth/"))):
            assert response.status_code in (403, 404), f"{path} as {outsider}: {response.status_code}"
    assert len(tried) >= 5
