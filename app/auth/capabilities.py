"""The capabilities matrix (docs/architecture.md, decision 4): one file, read here and by Convex."""

import json
from functools import cache
from pathlib import Path
from typing import TypedDict

MATRIX_PATH = Path(__file__).resolve().parents[2] / "convex" / "capabilities.json"


class ActionSpec(TypedDict):
    roles: list[str]
    description: str


class Matrix(TypedDict):
    """The file's shape (its `$comment` key aside)."""

    roles: dict[str, str]  # role -> what it is for
    actions: dict[str, ActionSpec]


@cache
def matrix() -> Matrix:
    loaded: Matrix = json.loads(MATRIX_PATH.read_text())
    return loaded


def roles() -> list[str]:
    return list(matrix()["roles"])


def actions() -> dict[str, ActionSpec]:
    return matrix()["actions"]


def role_can(role: str, action: str) -> bool:
    spec = actions().get(action)
    if spec is None:
        raise KeyError(f"unknown capability {action!r}")
    return role in spec["roles"]


def capabilities_of(role: str) -> list[str]:
    return [name for name, spec in actions().items() if role in spec["roles"]]
