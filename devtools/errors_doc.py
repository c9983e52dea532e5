"""Generate docs/errors.md from convex/errorCodes.json.

`python -m devtools.docs` rewrites it with the other generated pages.
"""

from pathlib import Path

from app.facts import ERROR_CODES, error_source

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def render() -> str:
    lines = [
        "# Problem codes",
        "",
        "<!-- Generated from convex/errorCodes.json by `python -m devtools.docs`; do not edit. -->",
        "",
        "Every error is `application/problem+json` (RFC 9457) with these members: `type`, `title`,",
        "`status`, `detail`, a stable `code` from the table below, the `requestId` (also in the",
        "`X-Request-ID` header), and for validation errors `errors[]`, one entry per offending field",
        '(`{"field": "body.endAt", "message": ...}`). Branch on `code`, never on `detail`.',
        "",
        "*From* says who decides: a rule in the Convex functions, or the BFF itself (authentication,",
        "protection, the data service's availability). Each operation in the OpenAPI document lists",
        "the codes it can answer (`x-problem-codes`).",
        "",
        "| status | code | from | meaning | what to do |",
        "|---|---|---|---|---|",
    ]
    for code, spec in sorted(ERROR_CODES.items(), key=lambda item: (item[1]["status"], item[0])):
        lines.append(
            f"| {spec['status']} | `{code}` | {error_source(code)} | {spec['description']} | {spec['action']} |"
        )
    return "\n".join(lines) + "\n"
