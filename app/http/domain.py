"""What a domain package declares beside its routes, in its `__init__.py`: its routers, its tags,
the conflicts its operations can meet, how its resources' ids feed other operations, and the
examples Swagger UI prefills. The app includes the routers and the OpenAPI document reads the
rest from the one list of domains (app/domains.py), so no shared module knows a domain by name.
"""

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

# What a 409 means unless the domain names its own rules.
STATE_CONFLICTS = ("conflict", "invalid_transition")


@dataclass(frozen=True)
class Examples:
    """What Swagger UI prefills, by operationId, where a schema's own examples would not
    succeed against the demo data: demo documents are named by `demo.document(...)`
    (app/openapi/demo.py), never by id."""

    # Path parameters: the demo documents each operation acts on.
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    # Request bodies that name demo documents or depend on the document they change.
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Why an example cannot succeed as a client_admin on fresh demo data, or only after another.
    try_it_out: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Domain:
    routers: tuple[APIRouter, ...]
    # Tag -> its description, in the order the document lists them.
    tags: dict[str, str]
    # The 409 codes its operations can answer (convex/errorCodes.json).
    conflicts: tuple[str, ...] = STATE_CONFLICTS
    # Response schema -> the path parameter its `id` is passed as, for OpenAPI links (app/openapi/links.py).
    resources: dict[str, str] = field(default_factory=dict)
    # Id path parameter -> the operation that lists such ids, named in the parameter's description.
    listed_by: dict[str, str] = field(default_factory=dict)
    examples: Examples = field(default_factory=Examples)
