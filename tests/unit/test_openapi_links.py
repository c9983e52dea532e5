"""OpenAPI links (app/openapi/links.py): from the answer that gives a resource's id to the
operations on it, which schemathesis's stateful phase follows (tests/e2e/test_schemathesis.py)."""

from typing import Any

import pytest

from tests.unit.conftest import default_document


def document() -> dict[str, Any]:
    return default_document()  # built once for the session: the tests here only read it


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation by its id: (method, path, operation)."""
    return {
        operation["operationId"]: (method, path, operation)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
    }


def links_of(operation_id: str, status: str) -> dict[str, Any]:
    return operations()[operation_id][2]["responses"][status].get("links", {})


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema a `$ref` (or a nullable `anyOf` of one) points to."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    schema = options[0] if len(options) == 1 else schema
    if "$ref" in schema:
        return resolve(document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def schema_at(schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    """The schema of the value a JSON pointer reaches in a body of `schema`."""
    for token in pointer.strip("/").split("/"):
        schema = resolve(schema)
        schema = schema["items"] if token.isdigit() else schema["properties"][token]
    return resolve(schema)


@pytest.mark.parametrize(
    ("producer", "status", "target", "parameter", "expression"),
    [
        ("createCourse", "201", "publishCourse", "courseId", "$response.body#/id"),
        ("createEvent", "201", "publishEvent", "eventId", "$response.body#/id"),
        ("createEvent", "201", "registerForEvent", "eventId", "$response.body#/id"),
        ("listCourses", "200", "enrolInCourse", "courseId", "$response.body#/items/0/id"),
        ("enrolInCourse", "201", "completeEnrollment", "enrollmentId", "$response.body#/id"),
        ("registerForEvent", "201", "checkInRegistration", "registrationId", "$response.body#/id"),
        ("registerForEvent", "201", "cancelRegistration", "registrationId", "$response.body#/id"),
        ("listMyRegistrations", "200", "cancelRegistration", "registrationId", "$response.body#/items/0/id"),
        ("createApiKey", "201", "revokeApiKey", "apiKeyId", "$response.body#/key/id"),
        ("listEventSponsors", "200", "detachEventSponsor", "sponsorId", "$response.body#/0/id"),
    ],
)
def test_an_answer_links_to_the_operations_on_what_it_is_about(producer, status, target, parameter, expression):
    link = links_of(producer, status)[target]
    assert link["operationId"] == target
    assert link["parameters"][parameter] == expression
    assert link["parameters"]["client"] == "$request.path.client"


def test_a_path_parameter_both_operations_share_is_passed_along():
    link = links_of("listEventSponsors", "200")["detachEventSponsor"]
    assert link["parameters"]["eventId"] == "$request.path.eventId"


def test_every_action_is_linked_to_from_an_answer_that_names_its_resource():
    targets = {
        target
        for _, _, operation in operations().values()
        for response in operation["responses"].values()
        for target in response.get("links", {})
    }
    actions = {
        operation_id
        for operation_id, (method, path, _) in operations().items()
        if method == "post" and path.rsplit("/", 1)[0].endswith("Id}")
    }
    assert {"publishCourse", "completeEnrollment", "checkInRegistration", "cancelRegistration"} <= actions
    assert actions - targets == set()


def test_an_action_answer_links_nowhere():
    """Its caller holds the links of the resource already; from the answer that gave it the id."""
    for operation_id, (method, path, operation) in operations().items():
        if method == "post":
            assert "links" not in operation["responses"].get("200", {}), f"{operation_id} ({path})"


def test_every_link_names_an_operation_its_parameters_and_a_value_the_answer_has():
    for producer, (_, path, operation) in operations().items():
        for status, response in operation["responses"].items():
            body = resolve(response.get("content", {}).get("application/json", {}).get("schema", {}))
            for name, link in response.get("links", {}).items():
                *_, target = operations()[link["operationId"]]
                wanted = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                assert set(link["parameters"]) <= wanted, f"{producer} {status} -> {name}"
                for expression in link["parameters"].values():
                    source, _, value = expression.partition("#")
                    if source == "$response.body":
                        assert schema_at(body, value).get("type") == "string", f"{producer} {status} -> {name}"
                    else:
                        assert f"{{{source.removeprefix('$request.path.')}}}" in path, f"{producer} -> {name}"
