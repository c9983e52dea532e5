"""The OpenAPI document as clients should read it: every error is problem+json."""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.problems import PROBLEM_MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}


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


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
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
            for path_format, path in schema.get("paths", {}).items():
                for operation in path.values():
                    add_protection_responses(path_format, operation)
                    for code, response in operation.get("responses", {}).items():
                        if code.startswith(("4", "5")):
                            # Errors are answered as problem+json only (app/problems.py),
                            # FastAPI's own 422 included.
                            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
