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
class IdParameter:
    """A path parameter holding an id: the operation that lists such ids (its description names
    it; None where another domain declares that) and the response schemas whose `id` it takes
    (OpenAPI links lead from their operations to the operations taking it: app/openapi/links.py)."""

    listed_by: str | None
    fed_by: tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    routers: tuple[APIRouter, ...]
    # Tag -> its description, in the order the document lists them.
    tags: dict[str, str]
    # The 409 codes its operations can answer (convex/errorCodes.json).
    conflicts: tuple[str, ...] = STATE_CONFLICTS
    # Its id path parameters, by name.
    ids: dict[str, IdParameter] = field(default_factory=dict)
    examples: Examples = field(default_factory=Examples)
    # The calls it makes to others (webhooks), for the document's `webhooks` section.
    webhooks: APIRouter | None = None

    @property
    def resources(self) -> dict[str, str]:
        """Response schema -> the path parameter its `id` is passed as."""
        return {schema: name for name, parameter in self.ids.items() for schema in parameter.fed_by}

    @property
    def listed_by(self) -> dict[str, str]:
        """Id path parameter -> the operation that lists such ids."""
        return {name: parameter.listed_by for name, parameter in self.ids.items() if parameter.listed_by}
