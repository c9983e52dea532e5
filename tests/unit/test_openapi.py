"""The OpenAPI document integrators generate clients from."""

import re
from pathlib import Path

from app.convex.errors import CONVEX_ERROR_STATUS
from app.main import create_app
from app.openapi import PROBLEM_CODES
from app.problems import _HTTP_CODES, PROBLEM_MEDIA_TYPE

ROOT = Path(__file__).resolve().parents[2]


def document() -> dict:
    return create_app().openapi()


def operations():
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_openapi_is_3_1_with_both_security_schemes():
    doc = document()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}


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
    """Codes thrown by Convex, raised by the BFF and mapped from HTTP errors: all catalogued."""
    documented = {code: status for status, codes in PROBLEM_CODES.items() for code in codes}
    produced = dict(CONVEX_ERROR_STATUS)
    for source in (ROOT / "app").rglob("*.py"):
        text = source.read_text()
        produced |= {code: int(status) for status, code in re.findall(r'Problem\(\s*(\d{3}),\s*"(\w+)"', text)}
        produced |= {code: int(status) for status, code in re.findall(r'status = (\d{3})\n\s*code = "(\w+)"', text)}
    produced |= {code: status for status, code in _HTTP_CODES.items() if status in PROBLEM_CODES}
    produced.pop("internal")  # a 500 is a bug, not a contract
    assert {c: s for c, s in produced.items() if documented.get(c) != s} == {}
    assert len(produced) >= 20
