"""The OpenAPI document integrators generate clients from."""

import re
from pathlib import Path

from app.facts import ERROR_CODES
from app.gateway.errors import CONVEX_ERROR_STATUS
from app.http.problems import _HTTP_CODES, PROBLEM_MEDIA_TYPE, Problem
from app.main import create_app
from app.openapi.document import PROBLEM_CODES
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex, default_document
from tests.unit.protection.test_protection import spend
from tests.unit.tokens import make_token

ROOT = Path(__file__).resolve().parents[2]


def document() -> dict:
    return default_document()  # built once for the session: the tests here only read it


def operations():
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_openapi_is_3_1_with_the_bearer_api_key_and_session_cookie_schemes():
    doc = document()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader", "APIKeyCookie"}
    cookie = doc["components"]["securitySchemes"]["APIKeyCookie"]
    assert cookie["in"] == "cookie" and cookie["name"] == "__Host-mp-session"


def test_every_operation_has_a_unique_explicit_id_a_summary_and_a_tag():
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids))
    for path, method, op in operations():
        assert "_" not in op["operationId"], f"{method} {path} has a generated operationId"
        assert op.get("summary") and op.get("tags"), f"{method} {path}"


def test_every_error_response_is_problem_json():
    for path, method, op in operations():
        for code, response in op["responses"].items():
            if code[0] in "45":
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], f"{method} {path} {code}"


def test_every_client_route_declares_auth_errors_and_not_found():
    for path, method, op in operations():
        if path.startswith("/v1/clients/"):
            assert {"401", "403", "404"} <= set(op["responses"]), f"{method} {path}"
            assert op.get("security"), f"{method} {path} has no security requirement"


def test_lists_take_cursor_and_limit():
    for path, method, op in operations():
        if method == "get" and "200" in op["responses"]:
            schema = op["responses"]["200"]["content"].get("application/json", {}).get("schema", {})
            if schema.get("$ref", "").split("/")[-1].startswith("Page_"):
                names = {p["name"] for p in op.get("parameters", [])}
                assert {"cursor", "limit"} <= names, f"{method} {path}"
                assert "Link" in op["responses"]["200"]["headers"], f"{method} {path}"
                assert "nextCursor" in op["responses"]["200"]["content"]["application/json"]["example"]


def test_every_operation_describes_itself_beyond_its_capability():
    for path, method, op in operations():
        prose = op.get("description", "").split("**Requires capability**")[0].strip()
        assert len(prose) > 20, f"{method} {path} has no description of its own"


def test_every_tag_is_described_and_servers_are_listed():
    doc = document()
    described = {t["name"] for t in doc["tags"] if t.get("description")}
    used = {tag for _, _, op in operations() for tag in op["tags"]}
    assert used <= described, used - described
    assert doc["servers"] == [{"url": "/", "description": "This deployment"}]


def test_servers_come_from_settings():
    from app.settings import Settings

    app = create_app(Settings(_env_file=None, api_servers=["https://api.example.org"]))
    assert app.openapi()["servers"] == [{"url": "https://api.example.org"}]


def test_every_request_and_success_body_has_an_example():
    for path, method, op in operations():
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert body.get("example") not in (None, {}), f"{method} {path} request"
        for status, response in op["responses"].items():
            content = response.get("content", {}).get("application/json")
            if status.startswith("2") and content is not None:
                assert "example" in content, f"{method} {path} {status}"


def test_every_error_lists_the_codes_it_can_carry_with_an_example():
    for path, method, op in operations():
        for status, response in op["responses"].items():
            if status[0] in "45":
                codes = response["x-problem-codes"]
                assert codes and all(f"`{c}`" in response["description"] for c in codes), f"{method} {path} {status}"
                example = response["content"][PROBLEM_MEDIA_TYPE]["example"]
                assert example["status"] == int(status) and example["code"] in codes


def test_every_problem_code_the_code_base_produces_is_documented():
    """Codes thrown by Convex, raised by the BFF and mapped from HTTP errors: all catalogued, each at
    the one status convex/errorCodes.json gives it (`Problem` looks it up there)."""
    documented = {code: status for status, codes in PROBLEM_CODES.items() for code in codes}
    produced = dict(CONVEX_ERROR_STATUS)
    for source in (ROOT / "app").rglob("*.py"):
        text = source.read_text()
        named = re.findall(r'Problem\(\s*"(\w+)"', text) + re.findall(r'^\s+code = "(\w+)"$', text, flags=re.M)
        produced |= {code: Problem(code, "").status for code in named if code != "internal"}
    produced |= {code: status for status, code in _HTTP_CODES.items() if status in PROBLEM_CODES}
    assert {c: s for c, s in produced.items() if documented.get(c) != s} == {}
    assert len(produced) >= 20


# --- types and headers generated clients rely on ----------------------------------------------


def success_schemas(doc: dict) -> set[str]:
    """The component schemas a 2xx JSON body is made of, nested ones included."""

    def refs(node: object) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"].split("/")[-1]} if "$ref" in node else set()
            return found.union(*(refs(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(value) for value in node))
        return set()

    names = {
        name
        for _, _, op in operations_of(doc)
        for status, response in op["responses"].items()
        if status.startswith("2")
        for name in refs(response.get("content", {}).get("application/json", {}).get("schema", {}))
    }
    while grown := set().union(*(refs(doc["components"]["schemas"][n]) for n in names)) - names:
        names |= grown
    return names


def operations_of(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_field_of_a_success_body_is_required_and_nullable_only_where_null_is_sent():
    doc = document()
    schemas = doc["components"]["schemas"]
    bodies = success_schemas(doc)
    assert {"Course", "Event", "Member", "Page_Course_", "SpeakerOut", "Me"} <= bodies
    for name in bodies:
        properties = schemas[name].get("properties", {})
        assert set(schemas[name].get("required", [])) == set(properties), name
    nullable = {
        (name, field)
        for name in bodies
        for field, prop in schemas[name].get("properties", {}).items()
        if {"type": "null"} in prop.get("anyOf", [])
    }
    assert ("Course", "description") in nullable and ("Page_Course_", "nextCursor") in nullable
    assert not {("Course", "title"), ("Course", "status"), ("Event", "registeredCount")} & nullable


def test_enums_are_named_schemas_that_bodies_and_query_parameters_reference():
    doc = document()
    schemas = doc["components"]["schemas"]
    inline: list[str] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if "enum" in node:
                inline.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    for name, schema in schemas.items():
        walk({k: v for k, v in schema.items() if k != "enum"}, name)
    walk(doc["paths"], "paths")
    assert inline == []
    enums = [tuple(schema["enum"]) for schema in schemas.values() if "enum" in schema]
    assert len(enums) == len(set(enums)) >= 10  # each set of values named once
    status = next(p for p in doc["paths"]["/v1/clients/{client}/courses"]["get"]["parameters"] if p["name"] == "status")
    assert {"$ref": "#/components/schemas/CourseStatus"} in status["schema"]["anyOf"]
    assert schemas["Course"]["properties"]["status"] == {"$ref": "#/components/schemas/CourseStatus"}


def test_problem_code_is_the_enum_of_every_error_code_and_its_members_are_typed():
    schemas = document()["components"]["schemas"]
    problem = schemas["ProblemDetail"]
    assert problem["properties"]["code"]["$ref"] == "#/components/schemas/ProblemCode"
    assert schemas["ProblemCode"]["enum"] == list(ERROR_CODES)
    types = {
        name: [option.get("type") or option.get("$ref") for option in prop.get("anyOf", [prop])]
        for name, prop in problem["properties"].items()
    }
    assert types["capacity"] == ["integer", "null"]
    assert types["capability"] == types["entity"] == types["from"] == ["string", "null"]
    assert types["errors"] == ["array", "null"]
    assert problem["properties"]["errors"]["anyOf"][0]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert problem.get("additionalProperties") is not True  # every member it may carry is a property


def declared_headers(doc: dict, path: str, method: str, status: str) -> set[str]:
    headers = doc["paths"][path][method]["responses"][status].get("headers", {})
    for name, header in headers.items():
        assert header == {"$ref": f"#/components/headers/{name}"}, name
        assert name in doc["components"]["headers"], name
    return set(headers)


def test_response_headers_are_declared_where_they_are_sent():
    doc = document()
    for path, method, op in operations_of(doc):
        for status in op["responses"]:
            names = declared_headers(doc, path, method, status)
            assert "X-Request-ID" in names, (method, path, status)
            if status in ("429", "503"):
                assert "Retry-After" in names, (method, path, status)
            if status == "201":
                assert {"Idempotent-Replayed", "RateLimit", "RateLimit-Policy"} <= names, (method, path)
                # A message and an API key have no URL of their own (tests/e2e/test_location.py).
                no_url = op["operationId"] in {"replyToTicket", "addTicketInternalNote", "createApiKey"}
                assert ("Location" in names) is not no_url, (method, path)
            if status == "304":
                assert "ETag" in names and "If-None-Match" in {p["name"] for p in op["parameters"]}, (method, path)
    events = "/v1/clients/{client}/events"
    assert {"RateLimit", "RateLimit-Policy", "Link"} <= declared_headers(doc, events, "get", "200")
    assert "ETag" in declared_headers(doc, events + "/{eventId}", "get", "200")
    assert "ETag" not in declared_headers(doc, events, "get", "200") | declared_headers(doc, "/health", "get", "200")
    assert "Idempotent-Replayed" in declared_headers(doc, events + "/{eventId}/publish", "post", "200")
    assert "RateLimit" not in declared_headers(doc, "/v1/me", "get", "200")


def test_streamed_answers_are_described_without_a_schema():
    """OpenAPI 3.1 reads a schema-less media type as opaque content: generators then leave the
    reading to the caller instead of decoding an endless stream as one string."""
    streamed = [
        (path, content)
        for path, _, op in operations_of(document())
        for media_type, content in op["responses"].get("200", {}).get("content", {}).items()
        if media_type in ("text/event-stream", "text/csv")
    ]
    assert len(streamed) == 3
    for path, content in streamed:
        assert "schema" not in content and content["example"], path


def lower(names: set[str]) -> set[str]:
    return {name.lower() for name in names}


async def test_the_headers_a_list_and_a_refusal_declare_are_sent(make_client, convex):
    doc = document()
    page = {"page": [], "isDone": False, "continueCursor": "next"}
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "rateLimits:consume": spend(True), "events:list": page})
    client = await make_client(convex, rate_limit_enabled=True)
    listed = await client.get("/v1/clients/acme/events", headers=bearer(make_token()))
    assert listed.status_code == 200
    assert lower(declared_headers(doc, "/v1/clients/{client}/events", "get", "200")) <= set(listed.headers.keys())

    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "rateLimits:consume": spend(False, (0, 10))})
    refused = await client.get("/v1/clients/acme/events", headers=bearer(make_token()))
    assert refused.status_code == 429
    assert lower(declared_headers(doc, "/v1/clients/{client}/events", "get", "429")) <= set(refused.headers.keys())
