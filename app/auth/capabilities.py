"""The capabilities matrix (docs/architecture.md, decision 4): one file, read by app/facts.py and by Convex."""

from app.facts import MATRIX, ActionSpec


def roles() -> list[str]:
    return list(MATRIX["roles"])


def actions() -> dict[str, ActionSpec]:
    return MATRIX["actions"]


def role_can(role: str, action: str) -> bool:
    spec = actions().get(action)
    if spec is None:
        raise KeyError(f"unknown capability {action!r}")
    return role in spec["roles"]


def capabilities_of(role: str) -> list[str]:
    return [name for name, spec in actions().items() if role in spec["roles"]]
