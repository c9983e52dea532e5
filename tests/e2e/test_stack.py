"""The BFF over the embedded backend: health, readiness, auth, one resource end to end."""

from tests.e2e.conftest import as_user


async def test_health_and_ready(api):
    assert (await api.get("/health")).status_code == 200
    ready = await api.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


async def test_me_lists_the_memberships_of_a_demo_user(api):
    response = await api.get("/v1/me", headers=as_user("member@acme.test"))
    assert response.status_code == 200, response.text
    assert {
        "client": "acme",
        "clientName": response.json()["memberships"][0]["clientName"],
        "role": "member",
    } in response.json()["memberships"]


async def test_member_lists_categories_of_its_client(api):
    response = await api.get("/v1/clients/acme/categories", headers=as_user("member@acme.test"))
    assert response.status_code == 200, response.text
    assert response.json()["items"], "demo data has categories"


async def test_same_token_on_another_client_is_404(api):
    response = await api.get("/v1/clients/globex/categories", headers=as_user("member@acme.test"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_admin_creates_a_category_and_member_cannot(api):
    created = await api.post(
        "/v1/clients/acme/categories", json={"name": "E2E", "slug": "e2e-stack"}, headers=as_user("admin@acme.test")
    )
    assert created.status_code == 201, created.text
    refused = await api.post(
        "/v1/clients/acme/categories", json={"name": "E2E2", "slug": "e2e-stack-2"}, headers=as_user("member@acme.test")
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


async def test_foreign_category_id_reads_like_a_missing_one(api):
    created = await api.post(
        "/v1/clients/acme/categories",
        json={"name": "Foreign", "slug": "foreign-e2e"},
        headers=as_user("admin@acme.test"),
    )
    category_id = created.json()["id"]
    foreign = await api.get(f"/v1/clients/globex/categories/{category_id}", headers=as_user("admin@globex.test"))
    missing = await api.get("/v1/clients/globex/categories/nope", headers=as_user("admin@globex.test"))
    assert foreign.status_code == missing.status_code == 404

    def strip(body: dict) -> dict:
        return {k: v for k, v in body.items() if k != "requestId"}

    assert strip(foreign.json()) == strip(missing.json())


def test_the_embedded_backend_stops_when_its_starter_is_killed():
    """`make run` or a test session killed outright must not leave a backend holding its port."""
    import socket
    import subprocess
    import sys
    import time

    from devtools.embedded import ROOT, free_port

    port = free_port()
    starter = (
        "import os, signal\n"
        "from devtools.embedded import embedded_backend\n"
        f"with embedded_backend('k', port={port}, seed=False):\n"
        "    print('up', flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # check=False: the starter kills itself, so it never exits 0.
    run = subprocess.run(
        [sys.executable, "-c", starter], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert "up" in run.stdout
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return  # nothing listens any more
        time.sleep(0.2)
    raise AssertionError(f"the backend on port {port} outlived its starter")
