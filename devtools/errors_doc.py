"""Generate the tables of problem codes in docs/ from convex/errorCodes.json.

docs/errors.md is generated whole; docs/data-model.md keeps the codes Convex functions throw in
a table between marker comments, the rest of the page being written by hand.
`python -m devtools.docs` rewrites both with the other generated pages.
"""

from pathlib import Path

from app.facts import CONVEX_ERROR_CODES, ERROR_CODES, error_source

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC_PATH = DOCS / "errors.md"
DATA_MODEL_PATH = DOCS / "data-model.md"

BEGIN = "<!-- Generated from convex/errorCodes.json by `python -m devtools.docs`; do not edit up to the end mark. -->"
END = "<!-- End of the generated table. -->"


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


def convex_table() -> str:
    """The codes Convex functions throw, in the file's order, with the status the BFF answers."""
    lines = ["| code | HTTP | meaning |", "|---|---|---|"]
    lines += [f"| `{code}` | {spec['status']} | {spec['description']} |" for code, spec in CONVEX_ERROR_CODES.items()]
    return "\n".join(lines) + "\n"


def render_data_model() -> str:
    """docs/data-model.md as it is, with the table between its marks generated again."""
    text = DATA_MODEL_PATH.read_text()
    before, begin, rest = text.partition(BEGIN)
    _, end, after = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{DATA_MODEL_PATH} has lost the marks around its table of error codes: {BEGIN!r}, {END!r}")
    return f"{before}{BEGIN}\n\n{convex_table()}\n{END}{after}"
