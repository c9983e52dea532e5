"""Clients generated from /openapi.json, used the way integrators use them, under strict type checking.

The Python client comes from openapi-python-client, the TypeScript types from openapi-typescript (called
through openapi-fetch). Each drives an integrator's scenario (tests/clients/): create a one-place event,
find it in the listing, register a member, read the registration, be refused a second place with a typed
problem, cancel, read the audit log, read a 404's code. Each scenario must compile under `mypy --strict`
(no expression of type Any either) or `tsc --strict`, holds no cast, no Any and no comment that silences
the checker, and then runs against the BFF. A change to the document that breaks a generated client, or
makes its users cast, fails here.
"""

import asyncio
import importlib
import json
import os
import re
import sys
import tempfile
import tokenize
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from app.main import create_app
from tests.e2e.conftest import as_user, served_over_http

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"
PYTHON_SCENARIO = ROOT / "tests" / "clients" / "python_scenario.py"
TYPESCRIPT_FOLDER = ROOT / "tests" / "clients" / "typescript"
TYPESCRIPT_SCENARIO = TYPESCRIPT_FOLDER / "scenario.ts"
GENERATOR_CONFIG = ROOT / "tests" / "clients" / "openapi-python-client.yaml"
PACKAGE = "member_platform_client"
# On top of --strict for the scenarios only: the generated package itself uses Any (its JSON plumbing).
# The scenario may not write `Any` (disallow_any_explicit, and the token scan below). Expressions
# may contain it: openapi-python-client types every answer without a body (204, and the 304 of a
# conditional GET) as `Any`, so an operation's result is e.g. `Any | ProblemDetail | Registration`,
# which the scenario narrows with isinstance as the generated API intends.
MYPY_CONFIG = """\
[mypy]
strict = True

[mypy-tests.clients.*]
disallow_any_explicit = True
"""


async def run_tool(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> tuple[int, str]:
    """A command's exit status and its output (stdout, then stderr). Awaited, so the event loop that serves
    the in-process BFF keeps running meanwhile."""
    process = await asyncio.create_subprocess_exec(
        *map(str, args),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="generated-clients-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
async def document(api: httpx.AsyncClient, workdir: Path) -> Path:
    path = workdir / "openapi.json"
    path.write_bytes((await api.get("/openapi.json")).content)
    return path


@pytest.fixture(scope="module")
async def python_client(document: Path, workdir: Path) -> Path:
    """The folder holding the generated package."""
    folder = workdir / "python"
    bin_dir = Path(sys.executable).parent  # the generator, and the ruff it formats its output with
    status, output = await run_tool(
        bin_dir / "openapi-python-client",
        *("generate", "--path", document, "--config", GENERATOR_CONFIG, "--meta", "none"),
        *("--output-path", folder / PACKAGE),
        env={"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert status == 0, output
    assert "Warning" not in output, output  # every schema understood
    return folder


@pytest.fixture(scope="module")
async def typescript_config(document: Path, workdir: Path) -> Path:
    """A tsconfig that compiles the scenario against the types generated from the document."""
    folder = workdir / "typescript"
    folder.mkdir()
    status, output = await run_tool(NODE_BIN / "openapi-typescript", document, "-o", folder / "schema.ts")
    assert status == 0, output
    config = {
        "extends": str(TYPESCRIPT_FOLDER / "tsconfig.json"),
        "compilerOptions": {"paths": {"member-platform-api": ["./schema.ts"]}},
    }
    (folder / "tsconfig.json").write_text(json.dumps(config))
    return folder / "tsconfig.json"


@pytest.fixture
async def api_key(api: httpx.AsyncClient) -> str:
    """A client_admin key of acme, made as its admin over plain HTTP (the scenarios' set-up)."""
    created = await api.post(
        "/v1/clients/acme/api-keys",
        json={"name": "CRM sync", "role": "client_admin"},
        headers=as_user("admin@acme.test"),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["secret"])


def silenced_checks(source: Path) -> list[str]:
    """Lines of a Python file that cast, name Any or silence mypy."""
    with source.open("rb") as file:
        return [
            f"{source.name}:{token.start[0]}: {token.line.strip()}"
            for token in tokenize.tokenize(file.readline)
            if (token.type == tokenize.NAME and token.string in {"cast", "Any"})
            or (token.type == tokenize.COMMENT and "type: ignore" in token.string)
        ]


async def test_the_python_scenario_type_checks_under_mypy_strict_with_no_cast_and_no_any(python_client, workdir):
    assert silenced_checks(PYTHON_SCENARIO) == []
    (workdir / "mypy.ini").write_text(MYPY_CONFIG)
    status, output = await run_tool(
        *(sys.executable, "-m", "mypy", "--config-file", workdir / "mypy.ini", "--cache-dir", workdir / "mypy-cache"),
        PYTHON_SCENARIO,
        env={"MYPYPATH": str(python_client)},
    )
    assert status == 0, output


@pytest.fixture(scope="module")
def python_scenario(python_client: Path) -> Iterator[tuple[ModuleType, ModuleType]]:
    """The generated package and the scenario, imported."""
    sys.path.insert(0, str(python_client))
    try:
        yield importlib.import_module(PACKAGE), importlib.import_module("tests.clients.python_scenario")
    finally:
        sys.path.remove(str(python_client))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE or m == "tests.clients.python_scenario"]:
            del sys.modules[name]


async def test_an_integrator_runs_the_python_scenario_through_the_generated_client(bff_app, python_scenario, api_key):
    generated, scenario = python_scenario
    client = generated.AuthenticatedClient(
        base_url="http://bff.test",
        token=api_key,
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.ASGITransport(app=bff_app)},
    )
    async with client:
        outcome = await scenario.run(client, "acme")

    assert outcome.listed
    assert outcome.location == f"/v1/clients/acme/registrations/{outcome.registration_id}"
    assert (outcome.registered_status.value, outcome.read_event_id) == ("confirmed", outcome.event.id)
    assert outcome.full_at == 1
    assert (outcome.cancelled_status.value, outcome.places_left) == ("cancelled", 1)
    assert outcome.audit_actions == ["registration.cancel", "registration.create"]
    assert outcome.missing_code == "not_found"


async def test_the_typescript_scenario_compiles_under_tsc_strict_with_no_cast_and_no_any(typescript_config):
    assert re.findall(r"@ts-(?:ignore|expect-error|nocheck)", TYPESCRIPT_SCENARIO.read_text()) == []
    # Biome (tests/clients/typescript/biome.json): no type assertion but `as const`, no non-null assertion, no any.
    status, output = await run_tool(NODE_BIN / "biome", "lint", "--error-on-warnings", TYPESCRIPT_FOLDER)
    assert status == 0, output
    status, output = await run_tool(NODE_BIN / "tsc", "--strict", "--noEmit", "-p", typescript_config)
    assert status == 0, output


async def test_an_integrator_runs_the_typescript_scenario_with_openapi_fetch(e2e_settings, typescript_config, api_key):
    async with served_over_http(create_app(e2e_settings)) as url:
        status, output = await run_tool(
            NODE_BIN / "tsx",
            *("--tsconfig", typescript_config, TYPESCRIPT_SCENARIO),
            env={"BFF_URL": url, "API_KEY": api_key, "CLIENT_SLUG": "acme"},
        )
    assert status == 0, output
    outcome = json.loads(output.splitlines()[-1])

    assert outcome["listed"]
    assert outcome["location"] == f"/v1/clients/acme/registrations/{outcome['registrationId']}"
    assert (outcome["registeredStatus"], outcome["readEventId"]) == ("confirmed", outcome["eventId"])
    assert outcome["fullAt"] == 1
    assert (outcome["cancelledStatus"], outcome["placesLeft"]) == ("cancelled", 1)
    assert outcome["auditActions"] == ["registration.cancel", "registration.create"]
    assert outcome["missingCode"] == "not_found"
