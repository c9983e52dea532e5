"""The OpenAPI document as integrators read it.

FastAPI writes the paths and schemas from the code; this module adds what a generic generator
leaves out: the capability each operation needs, every error as problem+json with the codes
that status can carry there, the answers the protection layer adds (400, 413, 429), the `Link`
header of list pages, tag descriptions, servers from settings, and an example for every
request and response body (the fields' own examples where the models give them).
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.contract import ERROR_CODES
from app.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}

TAGS = [
    {"name": "me", "description": "The caller: who it is, its clients and roles, and what it may do in each."},
    {"name": "courses", "description": "Courses a client runs: drafts, publication, CPD points, categories."},
    {"name": "enrollments", "description": "Members enrolled on courses, their withdrawal and completion."},
    {"name": "events", "description": "Events with capacity and registration windows; sponsors attached to them."},
    {"name": "registrations", "description": "Members registered for events: check-in, cancellation, refund."},
    {"name": "tickets", "description": "Member support: tickets, their message thread and staff-only internal notes."},
    {"name": "members", "description": "Member profiles, their interests, and the member CSV export."},
    {"name": "categories", "description": "Interest categories that courses and members are tagged with."},
    {"name": "sponsors", "description": "Sponsors, what their own staff may edit, and the events they sponsor."},
    {"name": "api-keys", "description": "Integrator keys of a client: created, listed and revoked by its admins."},
    {"name": "audit", "description": "Who did what, when: every change, with filters and cursor paging."},
    {"name": "live", "description": "Server-Sent Events mirroring a REST read: a ticket's thread, an event's count."},
    {"name": "health", "description": "Liveness and readiness probes for the platform running the BFF."},
]

# Every problem `code` the API answers with, by status (convex/errorCodes.json; docs/errors.md).
# A unit test fails when the code base produces a code that is not listed here.
PROBLEM_CODES: dict[int, dict[str, str]] = {}
for _code, _spec in ERROR_CODES.items():
    PROBLEM_CODES.setdefault(_spec["status"], {})[_code] = _spec["description"]

# 409s are domain rules; which ones an operation can meet follows its resource.
CONFLICTS_BY_TAG = {
    "events": ("conflict", "invalid_transition", "capacity_full", "already_registered", "registration_closed"),
    "registrations": ("conflict", "invalid_transition", "capacity_full", "already_registered", "registration_closed"),
    "courses": ("conflict", "invalid_transition", "already_enrolled"),
    "enrollments": ("conflict", "invalid_transition", "already_enrolled"),
}


def route_capabilities(route: APIRoute) -> tuple[str, ...]:
    """The capabilities a route's `requires(...)` dependency checks (any of them suffices)."""

    def walk(dependant: Dependant) -> tuple[str, ...]:
        for sub in dependant.dependencies:
            found = getattr(sub.call, "capabilities", None) or walk(sub)
            if found:
                return found
        return ()

    return walk(route.dependant)


def add_protection_responses(path: str, operation: dict[str, Any]) -> None:
    """Answers that come from the protection around every route rather than from its handler:
    a body that is not JSON (400) or too large (413), and the rate limits of a client's routes (429)."""
    statuses = []
    if "requestBody" in operation:
        statuses += [400, 413]
    if path.startswith("/v1/clients/{client}"):
        statuses.append(429)
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), {"description": HTTPStatus(status).phrase})
    operation["responses"] = dict(sorted(responses.items()))


def problem_codes(method: str, path: str, operation: dict[str, Any], status: int) -> list[str]:
    """The codes this operation can answer `status` with."""
    codes = list(PROBLEM_CODES.get(status, {}))
    unsafe = method in ("post", "put", "patch", "delete")
    if status == 400 and "requestBody" not in operation:
        codes.remove("bad_request")
    if status == 409:
        tag = (operation.get("tags") or [""])[0]
        codes = [*CONFLICTS_BY_TAG.get(tag, ("conflict", "invalid_transition"))]
        if method == "post":
            codes += ["idempotency_in_flight", "idempotency_key_in_doubt"]
    if status == 422 and method != "post":
        codes.remove("idempotency_key_reused")
    if status == 429 and not path.endswith("/stream"):
        codes.remove("too_many_streams")
    if status == 504 and not unsafe:
        codes.remove("outcome_unknown")
    if status == 503 and not unsafe:
        codes.remove("write_conflict")
    return codes


def document_errors(method: str, path: str, operation: dict[str, Any]) -> None:
    for status_text, response in operation.get("responses", {}).items():
        if not status_text.startswith(("4", "5")):
            continue
        status = int(status_text)
        codes = problem_codes(method, path, operation, status)
        meanings = "; ".join(f"`{c}`: {PROBLEM_CODES[status][c]}" for c in codes)
        response["description"] = f"{HTTPStatus(status).phrase}. {meanings}".strip()
        example = {
            "type": PROBLEM_TYPE_BASE + codes[0],
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": PROBLEM_CODES[status][codes[0]],
            "code": codes[0],
            "requestId": "5f0c6a1e9b1d4c2f8a7e3b6d9c0a1f2e",
        }
        # Errors are answered as problem+json only (app/problems.py), FastAPI's own 422 included.
        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF, "example": example}}
        response["x-problem-codes"] = codes
        if status in (429, 503):
            response["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


def example_of(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """An example value built from a JSON schema: the field's own examples first, then its
    default, enum, format and bounds. Deterministic, so the document is stable."""
    if "$ref" in schema:
        return example_of(components[schema["$ref"].split("/")[-1]], components, depth + 1)
    for key in ("examples", "example", "default", "const", "enum"):
        if key in schema and schema[key] is not None:
            value = schema[key]
            return value[0] if key in ("examples", "enum") and isinstance(value, list) and value else value
    if "anyOf" in schema or "oneOf" in schema:
        options = [s for s in schema.get("anyOf", schema.get("oneOf", [])) if s.get("type") != "null"]
        return example_of(options[0], components, depth) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 6:
            return {}
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
        # Optional fields too, unless the object is wide: an example shows the shape.
        chosen = properties if len(properties) <= 12 else {k: v for k, v in properties.items() if k in required}
        return {name: example_of(sub, components, depth + 1) for name, sub in chosen.items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), components, depth + 1)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 1.0)
    if kind == "boolean":
        return True
    if kind == "string":
        formats = {"email": "member@example.org", "uri": "https://example.org", "date-time": "2026-11-25T09:00:00Z"}
        return formats.get(schema.get("format", ""), "text")
    return None


def add_examples(operation: dict[str, Any], components: dict[str, Any]) -> None:
    bodies = [operation.get("requestBody", {}).get("content", {}).get("application/json")]
    bodies += [
        response.get("content", {}).get("application/json")
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
    ]
    for body in bodies:
        if body is not None and "example" not in body and "examples" not in body:
            body["example"] = example_of(body.get("schema", {}), components)


def document_paging(operation: dict[str, Any]) -> None:
    ok = operation.get("responses", {}).get("200", {})
    schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref", "").split("/")[-1].startswith("Page_"):
        ok["headers"] = {
            "Link": {
                "description": 'RFC 8288 link to the next page (`<...>; rel="next"`), absent on the last page.',
                "schema": {"type": "string"},
            }
        }


def install_openapi(app: FastAPI, servers: list[dict[str, str]]) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=TAGS,
                servers=servers,
            )
            for context in iter_route_contexts(app.routes):
                route = context.route
                capabilities = route_capabilities(route) if isinstance(route, APIRoute) else ()
                if not capabilities:
                    continue
                for method in context.methods or ():
                    operation = schema["paths"][context.path_format][method.lower()]
                    operation["x-capabilities"] = list(capabilities)
                    needs = " or ".join(f"`{c}`" for c in capabilities)
                    note = f"**Requires capability** {needs} (see docs/capabilities.md)."
                    operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
            components = schema.get("components", {}).get("schemas", {})
            for path_format, path in schema.get("paths", {}).items():
                for method, operation in path.items():
                    add_protection_responses(path_format, operation)
                    document_errors(method, path_format, operation)
                    document_paging(operation)
                    add_examples(operation, components)
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
