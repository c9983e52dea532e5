"""The OpenAPI document as linters and generators read it: Redocly's recommended rules
(redocly.yaml) and Spectral's spectral:oas (.spectral.yaml) find nothing, and every example in it
(bodies, parameters, schema fields) validates against its schema."""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from app.domains import DOMAINS
from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]
# No update check or telemetry from Redocly: the tests stay offline and quiet.
NODE_ENV = os.environ | {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


@pytest.fixture(scope="module")
def document_file(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(json.dumps(document, indent=1))  # one key a line: the linters' line numbers mean something
    return path


def lint(*command: str) -> str:
    """A linter's JSON report (its banner and progress go to stderr, shown only if it fails)."""
    # A linter that finds problems exits non-zero: its report says which.
    done = subprocess.run(
        ["npx", "--no-install", *command], check=False, cwd=ROOT, env=NODE_ENV, capture_output=True, text=True
    )
    if not done.stdout.strip():
        pytest.fail(f"{command[0]} gave no report (exit {done.returncode}):\n{done.stderr}")
    return done.stdout


def test_redocly_recommended_rules_find_nothing(document_file: Path):
    report = json.loads(lint("redocly", "lint", "--config", "redocly.yaml", "--format", "json", str(document_file)))
    problems = [
        f"{p['severity']} {p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}" for p in report["problems"]
    ]
    assert not problems, "\n".join(problems)


def test_spectral_oas_rules_find_nothing(document_file: Path):
    report = json.loads(
        lint("spectral", "lint", "--quiet", "--ruleset", ".spectral.yaml", "--format", "json", str(document_file))
    )
    severities = ["error", "warning", "info", "hint"]
    problems = [
        f"{severities[p['severity']]} {p['code']} at {'.'.join(map(str, p['path']))}: {p['message']}" for p in report
    ]
    assert not problems, "\n".join(problems)


def examples_in(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) for every example of the document: the `example` and `examples`
    of media types, parameters and headers, and the `examples` list of any schema."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from examples_in(item, f"{where}/{index}")
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("schema"), dict):
        if "example" in node:
            yield f"{where}/example", node["schema"], node["example"]
        for name, example in node.get("examples", {}).items():
            yield f"{where}/examples/{name}", node["schema"], example["value"]
    elif isinstance(node.get("examples"), list):
        for index, value in enumerate(node["examples"]):
            yield f"{where}/examples/{index}", node, value
    for key, value in node.items():
        if key not in ("example", "examples"):
            yield from examples_in(value, f"{where}/{key.replace('/', '~1')}")


def test_every_example_validates_against_its_schema(document: dict[str, Any]):
    found = list(examples_in(document))
    invalid = []
    for where, schema, value in found:
        # The document's components travel with the schema, so its `$ref`s resolve.
        validator = jsonschema_rs.Draft202012Validator(
            {**schema, "components": document["components"]}, validate_formats=True
        )
        invalid += [f"{where}{error.instance_path}: {error.message}" for error in validator.iter_errors(value)]
    assert not invalid, "\n".join(invalid)
    assert len(found) > 400, "the walk missed the document's examples"


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


def test_swagger_ui_prefills_every_path_parameter_and_every_required_one(document: dict[str, Any]):
    """Swagger UI fills a parameter in from its `example` only, and refuses to send a request with
    a required one empty. The one left empty says where its value comes from."""
    empty = [
        f"{operation_id} {parameter['name']}"
        for operation_id, operation in operations(document).items()
        for parameter in operation.get("parameters", [])
        if (parameter.get("required") or parameter["in"] == "path") and "example" not in parameter
    ]
    # No key, no session and no webhook endpoint is in the demo data: each says which operation gives one.
    webhooks = [
        "deleteWebhook webhookId",
        "getWebhook webhookId",
        "listWebhookDeliveries webhookId",
        "pingWebhook webhookId",
        "redeliverWebhookDelivery deliveryId",
        "redeliverWebhookDelivery webhookId",
        "rotateWebhookSecret webhookId",
        "updateWebhook webhookId",
    ]
    assert sorted(empty) == sorted(
        ["endMySession sessionId", "endUserSession sessionId", "revokeApiKey apiKeyId", *webhooks]
    )
    assert "createApiKey" in operations(document)["revokeApiKey"]["description"]
    assert "listMySessions" in operations(document)["endMySession"]["description"]
    assert "listUserSessions" in operations(document)["endUserSession"]["description"]


def test_the_demo_examples_name_operations_and_parameters_that_exist(document: dict[str, Any]):
    """A renamed operation or parameter would otherwise silently lose its example."""
    by_id = operations(document)
    for domain in DOMAINS:
        examples = domain.examples
        assert set(examples.parameters) | set(examples.bodies) | set(examples.try_it_out) <= set(by_id)
        for operation_id, chosen in examples.parameters.items():
            names = {p["name"] for p in by_id[operation_id].get("parameters", [])}
            assert set(chosen) <= names, operation_id
        for operation_id in examples.bodies:
            assert "requestBody" in by_id[operation_id], operation_id
