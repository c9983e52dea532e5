"""Generate docs/capabilities.md from convex/capabilities.json (docs/architecture.md, decision 4).

`python -m devtools.docs` rewrites it with the other generated pages.
"""

from pathlib import Path

from app.auth.capabilities import actions, roles
from app.facts import MATRIX

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "capabilities.md"


def render() -> str:
    role_names = roles()
    lines = [
        "# Capabilities",
        "",
        "<!-- Generated from convex/capabilities.json by `python -m devtools.docs`; do not edit. -->",
        "",
        "One matrix of roles x actions. The BFF checks it before any data call (403 `forbidden`",
        "naming the capability); the Convex function builders check it again.",
        "",
        "## Roles",
        "",
        "| role | reach |",
        "|---|---|",
        *[f"| `{name}` | {text} |" for name, text in MATRIX["roles"].items()],
        "",
        "## Actions",
        "",
        "| action | " + " | ".join(f"`{r}`" for r in role_names) + " | what it allows |",
        "|---|" + "---|" * len(role_names) + "---|",
    ]
    for name, spec in actions().items():
        marks = " | ".join("yes" if r in spec["roles"] else "" for r in role_names)
        lines.append(f"| `{name}` | {marks} | {spec['description']} |")
    return "\n".join(lines) + "\n"
