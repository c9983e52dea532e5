"""The OpenAPI document as integrators read it.

FastAPI writes the paths and schemas from the code; this module adds what a generic generator
leaves out: the capability each operation needs, every error as problem+json with the codes
that status can carry there, the answers the protection layer adds (400, 413, 429), the
response headers each answer carries (`components.headers`), streamed answers described as
such, tag descriptions, servers from settings, and an example for every request and response
body (the fields' own examples where the models give them).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.facts import ERROR_CODES
from app.http.declared import dependants
from app.http.domain import STATE_CONFLICTS, Domain, Examples
from app.http.problems import DECLARED_ONLY, DECLARES_CODES, PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from app.openapi.demo import DEMO_NAMES
from app.openapi.links import add_links

DESCRIPTION = """Everything a client (an organisation, `acme` in the demo data) owns is under
`/v1/clients/{client}`. Authenticate with a user's bearer JWT or an integrator's `X-API-Key`;
every error is `application/problem+json` with a stable `code` (docs/errors.md).

The examples run as a client_admin of `acme` against the demo data `make run` starts with:
the ids they name are the demo's; on another deployment, each id parameter says which operation
lists them."""

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}


def header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A response header's component; most headers are plain strings."""
    return {"description": description, "schema": schema or {"type": "string"}}


# Response headers, declared once (components.headers) and referenced where they are sent.
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": header(
        "The request's id (the one sent in `X-Request-ID`, or a new one): log lines and a problem's `requestId` "
        "carry it."
    ),
    "RateLimit": header(
        "Requests left in the current window, and seconds until it resets, per policy "
        '(draft-ietf-httpapi-ratelimit-headers), e.g. `"principal";r=119;t=42, "client";r=1199;t=42`.'
    ),
    "RateLimit-Policy": header(
        "The limits that apply: requests (`q`) per window of seconds (`w`), per principal and per "
        'client, e.g. `"principal";q=120;w=60, "client";q=1200;w=60`.'
    ),
    "Retry-After": header("Seconds to wait before trying again.", {"type": "integer", "minimum": 1}),
    "Idempotent-Replayed": header(
        "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
        {"type": "string", "const": "true"},
    ),
    "Location": header("The URL of the resource just created."),
    "Set-Cookie": header(
        "The cookie this answer sets or clears: `__Host-mp-session` (the browser's session) or "
        "`__Host-mp-login` (a sign-in under way). HttpOnly and Secure: scripts never see it (docs/spa.md)."
    ),
    "ETag": header(
        "Strong entity tag of this representation: send it in `If-None-Match` to get 304 while it is unchanged."
    ),
    "Link": header('RFC 8288 link to the next page (`<...>; rel="next"`), absent on the last page.'),
}

# Answers read as a stream, not as one document: an endless event stream, a CSV export of any size.
STREAMED_MEDIA_TYPES = ("text/event-stream", "text/csv")

# Every problem `code` the API answers with, by status (convex/errorCodes.json; docs/errors.md).
# A unit test fails when the code base produces a code that is not listed here.
PROBLEM_CODES: dict[int, dict[str, str]] = {}
for _code, _spec in ERROR_CODES.items():
    PROBLEM_CODES.setdefault(_spec["status"], {})[_code] = _spec["description"]


def route_capabilities(route: APIRoute) -> tuple[str, ...]:
    """The capabilities a route's `requires(...)` dependency checks (any of them suffices)."""
    declared = (getattr(d.call, "capabilities", None) for d in dependants(route.dependant))
    return next((found for found in declared if found), ())


def add_protection_responses(path: str, operation: dict[str, Any]) -> None:
    """Answers that come from the protection around every route rather than from its handler:
    a malformed request (400: a query parameter the operation does not take, two credentials, a
    body that is not JSON), an `Accept` without JSON (406), a body too large (413) or not JSON
    (415) (app/http/semantics.py), and the rate limits of a client's routes (429)."""
    statuses = [400, 406]
    if "requestBody" in operation:
        statuses += [413, 415]
    if path.startswith("/v1/clients/{client}"):
        statuses.append(429)
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), {"description": HTTPStatus(status).phrase})
    operation["responses"] = dict(sorted(responses.items()))


def problem_codes(method: str, operation: dict[str, Any], status: int, conflicts: tuple[str, ...]) -> list[str]:
    """The codes this operation can answer `status` with; `conflicts` are its domain's 409s."""
    declared = operation.get(DECLARES_CODES, ())
    codes = [c for c in PROBLEM_CODES.get(status, {}) if c not in DECLARED_ONLY or c in declared]
    unsafe = method in ("post", "put", "patch", "delete")
    if status == 409:
        codes = [*conflicts]
    if status == 422 and method != "post":
        codes.remove("idempotency_key_reused")
    if status == 504 and not unsafe:
        codes.remove("outcome_unknown")
    if status == 503 and not unsafe:
        codes.remove("write_conflict")
    return codes


def document_errors(method: str, operation: dict[str, Any], conflicts: tuple[str, ...]) -> None:
    for status_text, response in operation.get("responses", {}).items():
        if not status_text.startswith(("4", "5")):
            continue
        status = int(status_text)
        codes = problem_codes(method, operation, status, conflicts)
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
        # Errors are answered as problem+json only (app/http/problems.py), FastAPI's own 422 included.
        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF, "example": example}}
        response["x-problem-codes"] = codes


def example_of(schema: dict[str, Any], components: dict[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """An example value built from a JSON schema: the field's own examples first, then its
    default, enum, format and bounds. Deterministic, so the document is stable."""
    # A field's own examples come first, also beside a `$ref` to a shared schema (an enum).
    for key in ("examples", "example", "default", "const", "enum"):
        if key in schema and schema[key] is not None:
            value = schema[key]
            return value[0] if key in ("examples", "enum") and isinstance(value, list) and value else value
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        # A schema that contains itself ends where it recurs.
        return None if name in seen else example_of(components[name], components, seen | {name})
    if "anyOf" in schema or "oneOf" in schema:
        options = [s for s in schema.get("anyOf", schema.get("oneOf", [])) if s.get("type") != "null"]
        return example_of(options[0], components, seen) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
        # Optional fields too, unless the object is wide: an example shows the shape.
        chosen = properties if len(properties) <= 12 else {k: v for k, v in properties.items() if k in required}
        return {name: example_of(sub, components, seen) for name, sub in chosen.items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), components, seen)]
    if kind == "integer":
        return int(schema.get("minimum", 1))  # bounds are written as floats (1000.0)
    if kind == "number":
        return schema.get("minimum", 1.0)
    if kind == "boolean":
        return True
    if kind == "string":
        formats = {"email": "member@example.org", "uri": "https://example.org", "date-time": "2026-11-25T09:00:00Z"}
        return formats.get(schema.get("format", ""), "text")
    return None


def add_examples(
    operation: dict[str, Any], components: dict[str, Any], examples: Examples, listed_by: dict[str, str]
) -> None:
    """Bodies get an example built from their schema, or the demo data's where they name its
    documents, and so do path parameters (each domain's `Examples`): Swagger UI's Try it out
    runs as it opens."""
    operation_id = operation.get("operationId", "")
    request = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if request is not None and "example" not in request and "examples" not in request:
        request["example"] = examples.bodies.get(operation_id) or example_of(request.get("schema", {}), components)
    for status, response in operation.get("responses", {}).items():
        body = response.get("content", {}).get("application/json")
        if status.startswith("2") and body is not None and "example" not in body and "examples" not in body:
            body["example"] = example_of(body.get("schema", {}), components)
    chosen = examples.parameters.get(operation_id, {})
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        # Swagger UI prefills `example`, not the schema's `examples`. Optional parameters stay
        # empty: a prefilled filter would narrow the list the example shows.
        if name in chosen:
            parameter["example"] = chosen[name]
        elif parameter.get("required") and parameter.get("schema", {}).get("examples"):
            parameter.setdefault("example", parameter["schema"]["examples"][0])
        if name in listed_by and "description" not in parameter:
            demo = DEMO_NAMES.get(parameter.get("example", ""))
            example = f" The example is {demo} in the demo data (`make run`)." if demo else ""
            parameter["description"] = f"An `id` from `{listed_by[name]}`.{example}"
    if operation_id in examples.try_it_out:
        note = examples.try_it_out[operation_id]
        operation["description"] = f"{operation.get('description', '')}\n\n**Try it out:** {note}"


def header_names(path: str, operation: dict[str, Any], status: str) -> list[str]:
    """The headers an answer of this operation with this status carries (app/main.py's request id,
    app/protection/, app/http/routing.py, app/http/pagination.py)."""
    names = ["X-Request-ID"]
    success = status.startswith("2")
    # Counted on every client route; a streamed answer is sent before the count's headers could join it.
    rate_limited = path.startswith("/v1/clients/{client}")
    if rate_limited and ((success and not is_streamed(operation, status)) or status == "429"):
        names += ["RateLimit", "RateLimit-Policy"]
    idempotent = any(
        p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])
    )
    if status in ("429", "503"):
        names.append("Retry-After")
    if success and idempotent:
        names.append("Idempotent-Replayed")
    if status in ("200", "304") and "304" in operation.get("responses", {}):  # the conditional GETs
        names.append("ETag")
    if status == "200" and response_schema_name(operation).startswith("Page_"):
        names.append("Link")
    return names


def is_streamed(operation: dict[str, Any], status: str) -> bool:
    content = operation.get("responses", {}).get(status, {}).get("content", {})
    return any(media_type in STREAMED_MEDIA_TYPES for media_type in content)


def response_schema_name(operation: dict[str, Any]) -> str:
    ok = operation.get("responses", {}).get("200", {})
    return str(ok.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")).split("/")[-1]


def document_headers(path: str, operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        names = header_names(path, operation, status)
        declared = response.setdefault("headers", {})
        declared.update({name: {"$ref": f"#/components/headers/{name}"} for name in names})


def describe_streams(operation: dict[str, Any]) -> None:
    """A streamed answer has no schema: OpenAPI 3.1 reads a schema-less media type as opaque
    content, so generated clients leave reading it to the caller (e.g. openapi-fetch's
    `parseAs: "stream"`, httpx's `client.stream`) instead of decoding an endless body as a string."""
    for status, response in operation.get("responses", {}).items():
        for media_type, content in response.get("content", {}).items():
            if status.startswith("2") and media_type in STREAMED_MEDIA_TYPES:
                content.pop("schema", None)


@dataclass(frozen=True)
class DocumentFacts:
    """What the domains declare, gathered for the whole document."""

    tags: list[dict[str, str]]
    conflicts_by_tag: dict[str, tuple[str, ...]]
    resources: dict[str, str]
    listed_by: dict[str, str]
    examples: Examples

    @classmethod
    def of(cls, domains: Sequence[Domain]) -> "DocumentFacts":
        return cls(
            tags=[{"name": tag, "description": text} for d in domains for tag, text in d.tags.items()],
            conflicts_by_tag={tag: d.conflicts for d in domains for tag in d.tags},
            resources={schema: p for d in domains for schema, p in d.resources.items()},
            listed_by={name: op for d in domains for name, op in d.listed_by.items()},
            examples=Examples(
                parameters={k: v for d in domains for k, v in d.examples.parameters.items()},
                bodies={k: v for d in domains for k, v in d.examples.bodies.items()},
                try_it_out={k: v for d in domains for k, v in d.examples.try_it_out.items()},
            ),
        )

    def conflicts(self, operation: dict[str, Any]) -> tuple[str, ...]:
        """The 409 codes of the domain the operation's first tag belongs to."""
        tag = (operation.get("tags") or [""])[0]
        return self.conflicts_by_tag.get(tag, STATE_CONFLICTS)


def install_openapi(app: FastAPI, servers: list[dict[str, str]], domains: Sequence[Domain]) -> None:
    facts = DocumentFacts.of(domains)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description or DESCRIPTION,
                routes=app.routes,
                tags=facts.tags,
                servers=servers,
                webhooks=[route for domain in domains if domain.webhooks for route in domain.webhooks.routes],
            )
            for item in schema.get("webhooks", {}).values():
                for operation in item.values():
                    # FastAPI's answer to a body it refuses; a receiver answers as its domain declares.
                    operation["responses"].pop("422", None)
                    # Deliveries carry a signature (their headers), not a security scheme.
                    operation.setdefault("security", [])
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
                    # FastAPI lists the schemes of every route that reads credentials; the others
                    # (the probes) are public, which `security: []` states.
                    operation.setdefault("security", [])
                    add_protection_responses(path_format, operation)
                    document_errors(method, operation, facts.conflicts(operation))
                    operation.pop(DECLARES_CODES, None)
                    document_headers(path_format, operation)
                    describe_streams(operation)
                    add_examples(operation, components, facts.examples, facts.listed_by)
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            schema["components"]["headers"] = HEADERS
            add_links(schema, facts.resources)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
