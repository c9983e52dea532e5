"""The member CSV export (client_user and client_admin view and export members): complete, parseable,
safe to open in a spreadsheet, bounded, audited, and refused to members and sponsors."""

import csv
import io
import uuid

import httpx
import pytest

from tests.e2e.conftest import as_user, bff_process

ADMIN, STAFF = as_user("admin@acme.test"), as_user("staff@acme.test")
URL = "/v1/clients/acme/exports/members"


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_staff_export_every_member_of_their_client_as_csv(api):
    response = await api.get(URL, headers=STAFF)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="members-acme-all-')
    rows = rows_of(response)
    assert len(rows) >= 3002 and len({r["id"] for r in rows}) == len(rows)
    assert not any(r["email"].endswith("@globex.test") for r in rows)
    assert "member@acme.test" in {r["email"] for r in rows}


async def test_a_cell_a_spreadsheet_would_run_is_quoted(api):
    email = f"formula-{uuid.uuid4().hex[:8]}@example.org"
    body = {"firstName": '=HYPERLINK("http://evil.test")', "lastName": "@SUM(A1)", "email": email}
    assert (await api.post("/v1/clients/acme/members", json=body, headers=ADMIN)).status_code == 201
    row = next(r for r in rows_of(await api.get(URL, headers=STAFF)) if r["email"] == email)
    assert row["firstName"] == '\'=HYPERLINK("http://evil.test")' and row["lastName"] == "'@SUM(A1)"


async def test_the_status_filter_narrows_the_export(api):
    rows = rows_of(await api.get(URL, params={"status": "active"}, headers=STAFF))
    assert rows and {r["status"] for r in rows} == {"active"}


async def test_each_export_is_in_the_audit_log(api):
    await api.get(URL, params={"status": "suspended"}, headers=STAFF)
    audit = await api.get("/v1/clients/acme/audit-log", params={"action": "member.export"}, headers=ADMIN)
    assert audit.json()["items"][0]["after"] == {"status": "suspended"}


@pytest.mark.parametrize("who", ["member@acme.test", "sponsor@acme.test"])
async def test_members_and_sponsors_may_not_export(api, who):
    response = await api.get(URL, headers=as_user(who))
    assert response.status_code == 403 and response.json()["capability"] == "members.export"


async def test_an_export_beyond_the_limit_is_cut_not_passed_off_as_complete(e2e_settings):
    async with (
        bff_process(e2e_settings, raise_app_exceptions=False, export_max_rows=150) as client,
        client.stream("GET", URL, headers=STAFF) as response,
    ):
        assert response.status_code == 200
        body = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert body.count(b"\r\n") <= 101  # the header and the first page, never a "complete" file
