"""OpenAPI links (OpenAPI 3.1, "Link Object"): how the id in one answer feeds the next operation.

An answer about a course (creating, reading or updating it, or a page of courses) links to every
operation on that course (publish, archive, enrol, its categories, ...), with `courseId` taken
from the answer's body, and with the path parameters the two operations share (`client`, and e.g.
`eventId` from a page of an event's sponsors to detaching one) passed along. Integrators read the
workflow from them; schemathesis's stateful phase follows them to chain calls: create an event,
publish it, register for it, check the registration in.
"""

from typing import Any

JSON = "application/json"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def ref_name(schema: dict[str, Any]) -> str | None:
    """The component a schema refers to: `$ref`, or the one reference of a nullable `anyOf`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    refs = [option["$ref"] for option in schema.get("anyOf", schema.get("oneOf", [])) if "$ref" in option]
    return str(refs[0]).rsplit("/", 1)[-1] if len(refs) == 1 else None


def resource_in(
    schema: dict[str, Any], components: dict[str, Any], resources: dict[str, str]
) -> tuple[str, str] | None:
    """(JSON pointer to the resource's id in a body of this schema, the resource's schema name):
    the body itself (a course), its first item (an event's sponsors), one of its members (the
    `key` of a created API key), or the first item of a list member (the `items` of a page)."""
    name = ref_name(schema)
    if name in resources:
        return "/id", name
    item = ref_name(schema.get("items", {})) if schema.get("type") == "array" else None
    if item in resources:
        return "/0/id", item
    wrapper = components.get(name, schema) if name else schema
    for member, sub in wrapper.get("properties", {}).items():
        inner = ref_name(sub)
        if inner in resources:
            return f"/{member}/id", inner
        inner = ref_name(sub.get("items", {})) if sub.get("type") == "array" else None
        if inner in resources:
            return f"/{member}/0/id", inner
    return None


def path_parameters(operation: dict[str, Any], shared_parameters: dict[str, Any]) -> set[str]:
    parameters = [shared_parameters[ref] if (ref := ref_name(p)) else p for p in operation.get("parameters", [])]
    return {p["name"] for p in parameters if p.get("in") == "path"}


def is_linked_answer(method: str, status: str) -> bool:
    """Reads and updates (200) and creations (201) link onwards. An action's answer (a POST's
    200: publish, check in) does not: whoever acted already holds the links of that resource,
    from the answer that gave them its id; and with links of its own, schemathesis would start
    scenarios at every action, with an invented id, instead of following the links to it."""
    return status == "201" or (status == "200" and method != "post")


def add_links(schema: dict[str, Any], resources: dict[str, str]) -> None:
    """Link each answer about a resource to every other operation taking its id. `resources`:
    the path parameter each resource schema's `id` is passed as, as the domains declare it
    (app/http/domain.py); a schema not named there links nowhere, and
    tests/unit/test_openapi_links.py checks that every action stays reachable."""
    components = schema.get("components", {}).get("schemas", {})
    shared_parameters = schema.get("components", {}).get("parameters", {})
    operations = [
        (method, operation)
        for path_item in schema.get("paths", {}).values()
        for method, operation in path_item.items()
        if method in METHODS
    ]
    for method, producer in operations:
        shared = path_parameters(producer, shared_parameters)
        for status, response in producer.get("responses", {}).items():
            body = response.get("content", {}).get(JSON)
            found = (
                resource_in(body.get("schema", {}), components, resources)
                if is_linked_answer(method, status) and body
                else None
            )
            if found is None:
                continue
            pointer, resource = found
            id_parameter = resources[resource]
            links = {}
            for _, target in operations:
                wanted = path_parameters(target, shared_parameters)
                if target is producer or id_parameter not in wanted:
                    continue
                parameters = {name: f"$request.path.{name}" for name in sorted(wanted & shared)}
                parameters[id_parameter] = f"$response.body#{pointer}"
                links[target["operationId"]] = {
                    "operationId": target["operationId"],
                    "parameters": parameters,
                    "description": f"Passes `{pointer}` of this answer's body as `{id_parameter}`.",
                }
            if links:
                response["links"] = links
