"""Facts the BFF shares with Convex, read from the JSON files beside the Convex functions.

Each fact has one source that both languages read (docs/architecture.md, "One source for
every shared fact"): problem codes with their status (convex/errorCodes.json), bounds and
patterns (convex/limits.json); the capabilities matrix is read by app/auth/capabilities.py.
"""

import json
from pathlib import Path
from typing import Any, Literal, TypedDict

CONVEX_DIR = Path(__file__).resolve().parents[1] / "convex"


class ErrorCodeSpec(TypedDict):
    status: int
    description: str
    action: str


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONVEX_DIR / name).read_text())
    data.pop("$comment", None)
    return data


_codes = _read("errorCodes.json")
# Codes Convex functions throw (ConvexError), and codes the BFF answers on its own.
CONVEX_ERROR_CODES: dict[str, ErrorCodeSpec] = _codes["convex"]
BFF_ERROR_CODES: dict[str, ErrorCodeSpec] = _codes["bff"]
ERROR_CODES: dict[str, ErrorCodeSpec] = {**CONVEX_ERROR_CODES, **BFF_ERROR_CODES}


def error_source(code: str) -> Literal["convex", "bff"]:
    return "convex" if code in CONVEX_ERROR_CODES else "bff"


LIMITS: dict[str, Any] = _read("limits.json")
TEXT_MAX: dict[str, int] = LIMITS["text"]
PATTERNS: dict[str, str] = LIMITS["patterns"]
