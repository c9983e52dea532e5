"""Facts the BFF shares with Convex, read from the JSON files beside the Convex functions.

Each fact has one source that both languages read (docs/architecture.md, "One source for
every shared fact"), and this module is the one place the BFF reads them: problem codes with
their status (convex/errorCodes.json), bounds and patterns (convex/limits.json), and the
capabilities matrix (convex/capabilities.json, used through app/auth/capabilities.py), and the
webhook events with their delivery policy (convex/webhooks.json).
"""

import json
from pathlib import Path
from typing import Any, Literal, TypedDict

CONVEX_DIR = Path(__file__).resolve().parents[1] / "convex"
MATRIX_PATH = CONVEX_DIR / "capabilities.json"


class ErrorCodeSpec(TypedDict):
    status: int
    description: str
    action: str


class ActionSpec(TypedDict):
    roles: list[str]
    description: str


class Matrix(TypedDict):
    """The capabilities file's shape (its `$comment` key aside)."""

    roles: dict[str, str]  # role -> what it is for
    actions: dict[str, ActionSpec]


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    data.pop("$comment", None)
    return data


_codes = _read(CONVEX_DIR / "errorCodes.json")
# Codes Convex functions throw (ConvexError), and codes the BFF answers on its own.
CONVEX_ERROR_CODES: dict[str, ErrorCodeSpec] = _codes["convex"]
BFF_ERROR_CODES: dict[str, ErrorCodeSpec] = _codes["bff"]
ERROR_CODES: dict[str, ErrorCodeSpec] = {**CONVEX_ERROR_CODES, **BFF_ERROR_CODES}


def error_source(code: str) -> Literal["convex", "bff"]:
    return "convex" if code in CONVEX_ERROR_CODES else "bff"


LIMITS: dict[str, Any] = _read(CONVEX_DIR / "limits.json")
TEXT_MAX: dict[str, int] = LIMITS["text"]
PATTERNS: dict[str, str] = LIMITS["patterns"]

MATRIX: Matrix = _read(MATRIX_PATH)  # type: ignore[assignment]

# Webhook event types (type -> resource, description) and the delivery policy.
WEBHOOKS: dict[str, Any] = _read(CONVEX_DIR / "webhooks.json")
