"""The OpenAPI document integrators generate clients from."""

from app.main import create_app
from app.problems import PROBLEM_MEDIA_TYPE


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
