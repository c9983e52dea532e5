"""What a domain package declares beside its routes, in one place: its routers, and in its
`domain.json` its tags, the conflicts its operations can meet, how its resources' ids feed other
operations, and the examples Swagger UI prefills. The app includes the routers and the OpenAPI
document reads the rest from the one list of domains (app/domains.py), so no shared module knows
a domain by name.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from app.openapi import demo

# What a 409 means unless the domain names its own rules.
STATE_CONFLICTS = ("conflict", "invalid_transition")


@dataclass(frozen=True)
class Examples:
    """What Swagger UI prefills, by operationId, where a schema's own examples would not
    succeed against the demo data (app/openapi/demo.py)."""

    # Path parameters: the demo documents each operation acts on.
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    # Request bodies that name demo documents or depend on the document they change.
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Why an example cannot succeed as a client_admin on fresh demo data, or only after another.
    try_it_out: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Examples":
        """Demo documents (and shared notes) named as in app/openapi/demo.py, looked up there: an
        unknown name fails at import."""
        return cls(
            parameters=_named(data.get("parameters", {})),
            bodies=_named(data.get("bodies", {})),
            try_it_out=_named(data.get("tryItOut", {})),
        )


def _named(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _named(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_named(item) for item in value]
    if isinstance(value, str) and value.isupper() and " " not in value:
        return demo.NAMED[value]  # KeyError: a name the demo data does not have
    return value


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

    @classmethod
    def load(cls, package_file: str, *routers: APIRouter) -> "Domain":
        """The package's `routers` and the `domain.json` beside its `__init__.py`."""
        data = json.loads((Path(package_file).parent / "domain.json").read_text())
        return cls(
            routers=routers,
            tags=data["tags"],
            conflicts=tuple(data.get("conflicts", STATE_CONFLICTS)),
            resources=data.get("resources", {}),
            listed_by=data.get("listedBy", {}),
            examples=Examples.of(data.get("examples", {})),
        )
