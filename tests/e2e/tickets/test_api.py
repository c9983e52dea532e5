"""Support tickets through HTTP: members see their own threads without internal notes."""

from app.openapi.demo import DEMO_IDS
from tests.e2e.conftest import as_user

STAFF, MEMBER, MEMBER2 = (as_user(f"{u}@acme.test") for u in ("staff", "member", "member2"))


async def open_ticket(api, headers=MEMBER) -> dict:
    response = await api.post(
        "/v1/clients/acme/tickets", json={"subject": "Login trouble", "body": "I cannot sign in."}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def bodies(api, ticket_id: str, headers) -> list[str]:
    response = await api.get(f"/v1/clients/acme/tickets/{ticket_id}/messages", headers=headers)
    assert response.status_code == 200, response.text
    return [m["body"] for m in response.json()["items"]]


async def test_internal_notes_reach_staff_and_never_members(api):
    ticket = await open_ticket(api)
    assert (
        await api.post(
            f"/v1/clients/acme/tickets/{ticket['id']}/internal-notes", json={"body": "Check SSO logs"}, headers=STAFF
        )
    ).status_code == 201
    assert (
        await api.post(
            f"/v1/clients/acme/tickets/{ticket['id']}/messages", json={"body": "Looking into it"}, headers=STAFF
        )
    ).status_code == 201
    assert await bodies(api, ticket["id"], MEMBER) == ["I cannot sign in.", "Looking into it"]
    assert await bodies(api, ticket["id"], STAFF) == ["I cannot sign in.", "Check SSO logs", "Looking into it"]


async def test_a_member_cannot_write_internal_notes(api):
    ticket = await open_ticket(api)
    response = await api.post(
        f"/v1/clients/acme/tickets/{ticket['id']}/internal-notes", json={"body": "x"}, headers=MEMBER
    )
    assert response.status_code == 403 and response.json()["capability"] == "tickets.internalNote"


async def test_another_members_ticket_reads_as_missing(api):
    ticket = await open_ticket(api, MEMBER2)
    assert (await api.get(f"/v1/clients/acme/tickets/{ticket['id']}", headers=MEMBER)).status_code == 404
    assert (await api.get(f"/v1/clients/acme/tickets/{ticket['id']}/messages", headers=MEMBER)).status_code == 404


async def test_demo_thread_hides_its_internal_note_from_the_member(api):
    # Mia's demo ticket, by its id (other tests open tickets for her, so it leaves her first page).
    demo = DEMO_IDS["TICKET_MIA"]
    assert (await api.get(f"/v1/clients/acme/tickets/{demo}", headers=MEMBER)).json()["subject"] == (
        "Cannot download my CPD certificate"
    )
    assert not any(b.startswith("Internal:") for b in await bodies(api, demo, MEMBER))
    assert any(b.startswith("Internal:") for b in await bodies(api, demo, STAFF))


async def test_status_machine_through_http(api):
    ticket = await open_ticket(api)
    path = f"/v1/clients/acme/tickets/{ticket['id']}/status"
    assert (await api.post(path, json={"status": "resolved"}, headers=MEMBER)).status_code == 403
    assert (await api.post(path, json={"status": "closed"}, headers=MEMBER)).json()["status"] == "closed"
    reopened = await api.post(path, json={"status": "open"}, headers=STAFF)
    assert reopened.status_code == 409 and reopened.json()["code"] == "invalid_transition"


async def test_unknown_fields_are_refused(api):
    response = await api.post(
        "/v1/clients/acme/tickets", json={"subject": "x", "body": "y", "status": "closed"}, headers=MEMBER
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.status"


async def test_staff_open_a_ticket_on_a_members_behalf_and_the_member_sees_it(api):
    member = (await api.get("/v1/clients/acme/members/me", headers=MEMBER2)).json()
    response = await api.post(
        "/v1/clients/acme/tickets",
        json={"subject": "Called about invoices", "body": "Logged from a phone call.", "memberId": member["id"]},
        headers=STAFF,
    )
    assert response.status_code == 201, response.text
    assert response.json()["memberId"] == member["id"]
    mine = (await api.get("/v1/clients/acme/tickets/mine", params={"limit": 100}, headers=MEMBER2)).json()["items"]
    assert response.json()["id"] in {t["id"] for t in mine}


async def test_staff_must_name_the_member_they_open_a_ticket_for(api):
    response = await api.post("/v1/clients/acme/tickets", json={"subject": "S", "body": "B"}, headers=STAFF)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.memberId"


async def test_a_member_cannot_open_a_ticket_for_another_member(api):
    other = (await api.get("/v1/clients/acme/members/me", headers=MEMBER2)).json()
    response = await api.post(
        "/v1/clients/acme/tickets", json={"subject": "S", "body": "B", "memberId": other["id"]}, headers=MEMBER
    )
    assert response.status_code == 403 and response.json()["capability"] == "tickets.openForMember"
