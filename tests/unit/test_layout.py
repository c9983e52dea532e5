"""The layout keeps its promises (docs/architecture.md, "Where things live")."""

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


def sources() -> dict[str, str]:
    return {str(path.relative_to(APP.parent)): path.read_text() for path in APP.rglob("*.py")}


def test_no_module_imports_a_private_module_of_fastapi_starlette_or_pydantic():
    private = re.compile(r"^\s*(?:from|import)\s+(?:fastapi|starlette|pydantic)(?:\.\w+)*\._", re.MULTILINE)
    assert [name for name, text in sources().items() if private.search(text)] == []


def test_app_state_is_read_only_where_the_app_is_wired():
    """Everything else receives its services as a dependency or an argument (app/services.py)."""
    reads = re.compile(r"(\bapp|\[\"app\"\])\.state\b(?!\.tracer)")
    readers = {name for name, text in sources().items() if reads.search(text)}
    # Wiring: the app factory, the services, and tracing's install (it keeps its tracer there).
    assert readers == {"app/main.py", "app/services.py", "app/observability/tracing.py"}


def test_every_convex_mutation_is_built_with_receipts():
    """Mutations come from convex/lib/receipts.ts (or builders on it), so every one can be sent again."""
    convex = APP.parent / "convex"
    plain = re.compile(r"import \{[^}]*\binternalMutation\b[^}]*\} from \"[./]+/_generated/server\"")
    offenders = [
        str(path.relative_to(convex))
        for path in [*convex.glob("*.ts"), *convex.glob("lib/*.ts")]
        if plain.search(path.read_text()) and path.name != "receipts.ts"
    ]
    assert offenders == []


def test_convex_generated_api_lists_every_module():
    """convex/_generated/api.d.ts is committed (as Convex projects do): `make codegen` rewrites it;
    a module added or removed without it leaves the typed `api` stale."""
    convex = APP.parent / "convex"
    modules = {
        str(path.relative_to(convex).with_suffix("")).replace("/", "_")
        for path in convex.rglob("*.ts")
        if not {"_generated", "tests"} & set(path.relative_to(convex).parts)
        and path.name != "schema.ts"
        and not path.name.endswith(".d.ts")
    }
    listed = set(
        re.findall(r'^import type \* as (\w+) from "\.\./', (convex / "_generated" / "api.d.ts").read_text(), re.M)
    )
    assert listed == modules, "run `make codegen`"
