"""The capabilities matrix (docs/architecture.md, decision 4): one file, read by app/facts.py and by Convex."""

from app.facts import MATRIX, ActionSpec


def roles() -> list[str]:
    return list(MATRIX["roles"])


def actions() -> dict[str, ActionSpec]:
    return MATRIX["actions"]


def spec_of(action: str) -> ActionSpec:
    """The matrix's entry for `action`; KeyError for a capability the matrix does not know."""
    spec = actions().get(action)
    if spec is None:
        raise KeyError(f"unknown capability {action!r}")
    return spec


def role_can(role: str, action: str) -> bool:
    return role in spec_of(action)["roles"]


def capabilities_of(role: str) -> list[str]:
    return [name for name, spec in actions().items() if role in spec["roles"]]
