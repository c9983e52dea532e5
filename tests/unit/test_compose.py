"""docker-compose.yml: valid Compose, startable from a fresh checkout as README.md says.

Nothing here can start it: the build machines have no Docker engine. These are the checks
Docker Compose itself makes before it starts anything (interpolate every value of the file
with the project's environment, then validate the result against the Compose Specification's
JSON schema), plus what this deployment relies on: backend and dashboard at one revision, no
variable that a fresh checkout lacks, the admin-key checks at start, the README's services.

compose-spec.json beside this file is an unmodified copy of `schema/compose-spec.json` from
github.com/compose-spec/compose-go at commit faa67b213c471d63997f55cc145e6eab9dc3630f
(2026-06-16; Apache License 2.0). compose-go is the library Docker Compose loads files with,
and the compose-spec/compose-spec repository's copy names it as the original. To update:
replace the file and SCHEMA_GIT_BLOB (`git hash-object tests/unit/compose-spec.json`).
"""

import hashlib
import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")
SCHEMA_GIT_BLOB = "fe0e45d68542fee8ba7b1e483760c2f8802f8a4c"

# --- Compose interpolation (the Compose Specification, "Interpolation") ----------------------

_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_OPERATORS = (":?", "?", ":-", "-", ":+", "+")


class MissingRequiredVariable(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """`$$`, `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:+r}`, `${VAR+r}`, `${VAR:?e}`,
    `${VAR?e}`, nested in the default; an unset plain variable becomes ""."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
            continue
        following = text[i + 1 : i + 2]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            end = _closing_brace(text, i + 1)
            out.append(_braced(text[i + 2 : end], env))
            i = end + 1
        elif match := _NAME.match(text, i + 1):
            out.append(env.get(match.group(), ""))
            i = match.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def _closing_brace(text: str, opening: int) -> int:
    depth = 0
    for j in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return j
    raise ValueError(f"invalid template: {text!r}")


def _braced(expr: str, env: dict[str, str]) -> str:
    match = _NAME.match(expr)
    if match is None:
        raise ValueError(f"invalid template: ${{{expr}}}")
    name, rest = match.group(), expr[match.end() :]
    value = env.get(name)
    if rest == "":
        return value or ""
    op = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if op is None:
        raise ValueError(f"invalid template: ${{{expr}}}")
    arg = rest[len(op) :]
    present = value is not None if op in ("?", "-", "+") else bool(value)
    if op in (":?", "?"):
        if not present:
            raise MissingRequiredVariable(f"{name}: {interpolate(arg, env)}")
        return value or ""
    if op in (":-", "-"):
        return (value or "") if present else interpolate(arg, env)
    return interpolate(arg, env) if present else (value or "")


def interpolated(node: Any, env: dict[str, str]) -> Any:
    """Every value of the file, never a key, as Compose does."""
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(value, env) for value in node]
    if isinstance(node, str):
        return interpolate(node, env)
    return node


@pytest.mark.parametrize(
    ("template", "env", "expected"),
    [
        ("$$HOME ${A} $A", {"A": "x"}, "$HOME x x"),
        ("${A:-d} ${A-d}", {"A": ""}, "d "),
        ("${A:-http://h:${P:-3210}}", {}, "http://h:3210"),
        ("${A:+r}|${A+r}", {"A": ""}, "|r"),
        ("${A:-}", {}, ""),
    ],
)
def test_interpolation_follows_the_specification(template, env, expected):
    assert interpolate(template, env) == expected


def test_interpolation_refuses_a_missing_required_variable():
    with pytest.raises(MissingRequiredVariable):
        interpolate("${A:?set A}", {"A": ""})


# --- the file ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def validator():
    return jsonschema_rs.validator_for(json.loads(SCHEMA_FILE.read_text()))


# What Compose sees: a fresh checkout (nothing exported, no .env), and after step 2 (.env made
# from .env.example, whose CONVEX_ADMIN_KEY is the embedded backend's key).
ENVIRONMENTS = {
    "fresh checkout": {},
    ".env from .env.example": {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()},
}


def test_vendored_schema_is_the_upstream_file():
    content = SCHEMA_FILE.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
    assert blob == SCHEMA_GIT_BLOB


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_file_is_valid_compose(raw, validator, env_name):
    config = interpolated(raw, ENVIRONMENTS[env_name])
    errors = [f"{'.'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(config)]
    assert errors == []
    # The validator is not one that accepts anything.
    assert not validator.is_valid({"services": {"bff": {"imag": "x"}}})


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_no_two_services_publish_the_same_host_port(raw, env_name):
    # .env names the BFF's port PORT: a service publishing ${PORT} too would clash with it.
    config = interpolated(raw, ENVIRONMENTS[env_name])
    published = [str(p).rsplit(":", 1)[0] for s in config["services"].values() for p in s.get("ports", [])]
    assert len(published) == len(set(published)), published


def test_no_variable_is_required(raw):
    # Compose interpolates the whole file for any command, so one `${VAR:?...}`, in any
    # service, would stop steps 1 and 2 (start the backend, generate the key) on a fresh checkout.
    required = [s for s in _strings(raw) if re.search(r"(?<!\$)\$\{\w+:?\?", s)]
    assert required == []
    interpolated(raw, {})


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def test_backend_and_dashboard_run_one_pinned_revision(raw):
    services = raw["services"]
    backend_repo, backend_tag = services["backend"]["image"].rsplit(":", 1)
    dashboard_repo, dashboard_tag = services["dashboard"]["image"].rsplit(":", 1)
    assert (backend_repo, dashboard_repo) == (
        "ghcr.io/get-convex/convex-backend",
        "ghcr.io/get-convex/convex-dashboard",
    )
    assert backend_tag == dashboard_tag
    # A convex-backend commit (how Convex tags its releases), never the moving `latest`.
    assert re.fullmatch(r"[0-9a-f]{40}", backend_tag)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, dict):
        return {k: "" if v is None else str(v) for k, v in env.items()}
    return dict(entry.split("=", 1) for entry in env if "=" in entry)


def _run(argv: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Stand-ins for npm and the BFF's python: only the checks before them are under test.
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    for tool in ("npm", "python"):
        (stubs / tool).write_text(f"#!/bin/sh\necho {tool} ran\n")
        (stubs / tool).chmod(0o755)
    path = f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(argv, check=False, env={**env, "PATH": path}, capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize("name", ["deploy", "seed"])
def test_convex_cli_services_refuse_an_empty_key_at_start(raw, name, tmp_path):
    service = interpolated(raw, {})["services"][name]
    env = _environment(service)
    assert env["CONVEX_SELF_HOSTED_ADMIN_KEY"] == ""
    argv = service["entrypoint"]
    refused = _run([*argv, "echo", "cli ran"], env, tmp_path)
    assert refused.returncode == 1
    assert "CONVEX_ADMIN_KEY is empty" in refused.stderr and "npm ran" not in refused.stdout

    with_key = interpolated(raw, {"CONVEX_ADMIN_KEY": "member-platform|01ab"})["services"][name]
    ran = _run([*argv, "echo", "cli ran"], _environment(with_key), tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["npm ran", "cli ran"]


def test_deploy_and_seed_run_the_pinned_cli_without_touching_the_checkout(raw):
    services = raw["services"]
    assert services["deploy"]["command"] == ["npx", "convex", "deploy", "--yes", "--codegen", "disable"]
    assert services["seed"]["command"] == ["npx", "convex", "run", "demo:seed"]
    assert services["seed"]["profiles"] == ["seed"]
    for name in ("deploy", "seed"):
        assert "./convex:/app/convex:ro" in services[name]["volumes"]
    assert "export const seed = internalMutation(" in (ROOT / "convex" / "demo.ts").read_text()


def test_bff_refuses_an_empty_key_then_runs_the_images_command(raw, tmp_path):
    dockerfile_cmd = next(
        json.loads(line.removeprefix("CMD"))
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("CMD [")
    )
    service = interpolated(raw, {})["services"]["bff"]
    script = service["command"][2]
    assert f"exec {shlex.join(dockerfile_cmd)}" in script
    assert service["depends_on"]["deploy"]["condition"] == "service_completed_successfully"

    env = _environment(service)
    assert env["CONVEX_ADMIN_KEY"] == "" and env["CONVEX_URL"] == "http://backend:3210"
    refused = _run(service["command"], env, tmp_path)
    assert refused.returncode == 1 and "CONVEX_ADMIN_KEY is empty" in refused.stderr

    ran = _run(service["command"], {**env, "CONVEX_ADMIN_KEY": "member-platform|01ab"}, tmp_path)
    assert (ran.returncode, ran.stdout) == (0, "python ran\n")


# --- README.md, "Self-hosted Convex" ---------------------------------------------------------

# Options that take a value, so that value is not read as a service.
_TAKES_VALUE = {"-f", "--file", "-p", "--project-name", "--profile", "--env-file", "--entrypoint"}
_TAKES_VALUE |= {"-e", "--env", "-w", "--workdir", "-u", "--user", "--name"}
_ONE_SERVICE = {"run", "exec"}
_NO_SERVICE = {"down", "config", "version", "ls"}


def readme_services() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Self-hosted Convex", 1)[1].split("\n## ", 1)[0]
    named: set[str] = set()
    for command in re.findall(r"docker compose ([^`\n]+)", section):
        args = shlex.split(command)
        positional: list[str] = []
        skip = False
        for arg in args:
            if skip:
                skip = False
            elif arg in _TAKES_VALUE:
                skip = True
            elif not arg.startswith("-"):
                positional.append(arg)
        subcommand, rest = positional[0], positional[1:]
        if subcommand in _NO_SERVICE:
            continue
        named.update(rest[:1] if subcommand in _ONE_SERVICE else rest)
    return named


def test_every_service_in_the_readme_steps_exists(raw):
    named = readme_services()
    assert {"backend", "dashboard", "deploy", "bff", "seed"} <= named
    assert named <= set(raw["services"])
