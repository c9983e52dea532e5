"""API keys and the audit log through HTTP: an integrator's key from creation to revocation."""

import hashlib

from tests.e2e.conftest import as_user

ADMIN, STAFF = as_user("admin@acme.test"), as_user("staff@acme.test")


async def test_an_integrator_key_works_until_revoked_and_only_in_its_client(api, e2e_settings):
    created = await api.post(
        "/v1/clients/acme/api-keys", json={"name": "CRM sync", "role": "client_user"}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    secret, key = created.json()["secret"], created.json()["key"]
    assert secret.startswith("mp_") and key["prefix"] == secret[: len(key["prefix"])]
    listed = await api.get("/v1/clients/acme/api-keys", headers=ADMIN)
    assert secret not in listed.text and hashlib.sha256(secret.encode()).hexdigest() not in listed.text

    as_key = {"X-API-Key": secret}
    assert (await api.get("/v1/clients/acme/events", headers=as_key)).status_code == 200
    assert (await api.get("/v1/clients/acme/events", headers={"Authorization": f"Bearer {secret}"})).status_code == 200
    assert (await api.get("/v1/clients/globex/events", headers=as_key)).status_code == 404
    me = await api.get("/v1/me", headers=as_key)
    assert me.json() == {
        "kind": "api_key",
        "email": None,
        "name": None,
        "isPlatformAdmin": False,
        "memberships": [{"client": "acme", "clientName": "Acme Professional Society", "role": "client_user"}],
    }

    revoked = await api.post(f"/v1/clients/acme/api-keys/{key['id']}/revoke", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revokedAt"]
    # The e2e app caches actors for a fraction of a millisecond; Convex re-checks every call anyway.
    refused = await api.get("/v1/clients/acme/events", headers=as_key)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert (await api.get("/v1/me", headers=as_key)).status_code == 401
    again = await api.post(f"/v1/clients/acme/api-keys/{key['id']}/revoke", headers=ADMIN)
    assert again.status_code == 409


async def test_keys_are_managed_by_client_admin_only(api):
    response = await api.post("/v1/clients/acme/api-keys", json={"name": "x", "role": "member"}, headers=STAFF)
    assert response.status_code == 403 and response.json()["capability"] == "apiKeys.manage"


async def test_a_key_cannot_be_made_platform_admin(api):
    response = await api.post("/v1/clients/acme/api-keys", json={"name": "x", "role": "platform_admin"}, headers=ADMIN)
    assert response.status_code == 422


async def test_the_audit_log_records_who_did_what(api):
    created = await api.post(
        "/v1/clients/acme/categories", json={"name": "Audit me", "slug": "audit-me"}, headers=ADMIN
    )
    log = await api.get("/v1/clients/acme/audit-log", params={"entityType": "category", "limit": 5}, headers=ADMIN)
    assert log.status_code == 200
    entry = next(e for e in log.json()["items"] if e["entityId"] == created.json()["id"])
    assert entry["action"] == "category.create" and entry["actorRole"] == "client_admin"
    assert (await api.get("/v1/clients/acme/audit-log", headers=STAFF)).status_code == 403


async def test_one_entitys_history_reads_from_the_audit_log(api):
    created = await api.post("/v1/clients/acme/sponsors", json={"name": "History Ltd"}, headers=ADMIN)
    sponsor = created.json()["id"]
    await api.patch(f"/v1/clients/acme/sponsors/{sponsor}", json={"tier": "gold"}, headers=ADMIN)
    await api.post("/v1/clients/acme/sponsors", json={"name": "Someone Else"}, headers=ADMIN)
    history = await api.get(
        "/v1/clients/acme/audit-log", params={"entityType": "sponsor", "entityId": sponsor}, headers=ADMIN
    )
    assert [(e["action"], e["entityId"]) for e in history.json()["items"]] == [
        ("sponsor.update", sponsor),
        ("sponsor.create", sponsor),
    ]
    alone = await api.get("/v1/clients/acme/audit-log", params={"entityId": sponsor}, headers=ADMIN)
    assert alone.status_code == 422 and alone.json()["errors"][0]["field"] == "query.entityId"


async def test_two_audit_filters_at_once_are_refused(api):
    response = await api.get(
        "/v1/clients/acme/audit-log", params={"entityType": "category", "action": "x"}, headers=ADMIN
    )
    assert response.status_code == 422 and response.json()["code"] == "validation"


async def test_a_sponsor_admin_edits_only_its_own_sponsor(api):
    sponsor = as_user("sponsor@acme.test")
    sponsors = (await api.get("/v1/clients/acme/sponsors", headers=sponsor)).json()["items"]
    own, other = sponsors[0], sponsors[1]
    results = {}
    for s in (own, other):
        results[s["name"]] = (
            await api.patch(f"/v1/clients/acme/sponsors/{s['id']}", json={"description": "Updated"}, headers=sponsor)
        ).status_code
    assert sorted(results.values()) == [200, 404]
