"""A client generated from /openapi.json with openapi-python-client drives an integrator's
scenario against the embedded backend, so a schema change that breaks generated clients
fails the build: key -> list events -> register a member -> read the registration ->
cancel it -> find both changes in the audit log."""

import asyncio
import importlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.e2e.conftest import as_user
from tests.e2e.events.test_api import new_published_event

PACKAGE = "member_platform_client"


@pytest.fixture(scope="module")
async def generated(api, tmp_path_factory) -> ModuleType:
    folder = tmp_path_factory.mktemp("generated")
    spec = folder / "openapi.json"
    spec.write_bytes((await api.get("/openapi.json")).content)
    bin_dir = Path(sys.executable).parent  # the tool and the ruff it formats with
    # In a thread, so the session's event loop (the in-process BFF's tasks) keeps running; check=False: the
    # assert below shows the output.
    run = await asyncio.to_thread(
        subprocess.run,
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr  # every schema understood
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def part(module: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{module}")


async def test_an_integrator_runs_a_registration_through_a_generated_client(api, bff_app, generated):
    admin = as_user("admin@acme.test")
    created = await api.post(
        "/v1/clients/acme/api-keys", json={"name": "CRM sync", "role": "client_admin"}, headers=admin
    )
    event = await new_published_event(api, capacity=20)
    member = await api.post(
        "/v1/clients/acme/members",
        json={"firstName": "Gen", "lastName": "Client", "email": f"gen-{uuid.uuid4().hex[:8]}@example.org"},
        headers=admin,
    )
    client = generated.AuthenticatedClient(
        base_url="http://bff.test",
        token=created.json()["secret"],
        httpx_args={"transport": httpx.ASGITransport(app=bff_app)},
    )

    async with client:
        events = await part("api.events.list_events").asyncio(client_path="acme", client=client, limit=100)
        assert event["id"] in [e.id for e in events.items]

        body = part("models.registration_create").RegistrationCreate(member_id=member.json()["id"])
        registered = await part("api.registrations.register_for_event").asyncio_detailed(
            "acme", event["id"], client=client, body=body, idempotency_key=str(uuid.uuid4())
        )
        assert registered.status_code == 201, registered.content
        registration = registered.parsed

        read = await part("api.registrations.get_registration").asyncio("acme", registration.id, client=client)
        assert read.status.value == "confirmed" and read.event_id == event["id"]

        cancelled = await part("api.registrations.cancel_registration").asyncio("acme", registration.id, client=client)
        assert cancelled.status.value == "cancelled"

        audit = await part("api.audit.list_audit_log").asyncio(
            "acme", client=client, entity_type="registration", entity_id=registration.id
        )
        assert [e.action for e in audit.items] == ["registration.cancel", "registration.create"]

        missing = await part("api.registrations.get_registration").asyncio_detailed("acme", "0" * 32, client=client)
        assert missing.status_code == 404 and missing.parsed.code == "not_found"
