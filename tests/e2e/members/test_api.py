"""Members through HTTP: pagination over acme's thousands, search, self-service limits."""

from tests.e2e.conftest import as_user

ADMIN, STAFF, MEMBER = (as_user(f"{u}@acme.test") for u in ("admin", "staff", "member"))


async def test_pagination_walks_all_of_acmes_members_without_duplicates_or_gaps(api):
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        response = await api.get("/v1/clients/acme/members", params=params, headers=STAFF)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 100
        seen += [m["id"] for m in body["items"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "no duplicates"
    assert len(seen) >= 3002 and pages >= 31
    by_email = await api.get("/v1/clients/acme/members", params={"email": "member@acme.test"}, headers=STAFF)
    assert by_email.json()["items"][0]["id"] in seen


async def test_the_link_header_leads_to_the_next_page_with_the_same_filters(api):
    first = await api.get("/v1/clients/acme/members", params={"limit": 5, "status": "active"}, headers=STAFF)
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"') and "limit=5" in link and "status=active" in link
    following = await api.get(link[1 : link.index(">")], headers=STAFF)
    assert following.status_code == 200
    assert following.json()["items"][0]["id"] not in {m["id"] for m in first.json()["items"]}
    last = await api.get("/v1/clients/acme/members", params={"email": "member@acme.test"}, headers=STAFF)
    assert last.json()["nextCursor"] is None and "Link" not in last.headers


async def test_a_cursor_replayed_on_another_query_is_400(api):
    first = await api.get("/v1/clients/acme/members", params={"limit": 5}, headers=STAFF)
    cursor = first.json()["nextCursor"]
    replayed = await api.get(
        "/v1/clients/acme/members", params={"limit": 5, "cursor": cursor, "status": "active"}, headers=STAFF
    )
    assert replayed.status_code == 400 and replayed.json()["code"] == "invalid_cursor"


async def test_search_by_name_prefix(api):
    response = await api.get("/v1/clients/acme/members", params={"search": "mia mem"}, headers=STAFF)
    assert [m["email"] for m in response.json()["items"]] == ["member@acme.test"]


async def test_a_member_reads_its_profile_but_cannot_list_members(api):
    me = await api.get("/v1/clients/acme/members/me", headers=MEMBER)
    assert me.status_code == 200 and me.json()["email"] == "member@acme.test"
    assert (await api.get("/v1/clients/acme/members", headers=MEMBER)).status_code == 403


async def test_a_member_cannot_set_its_own_cpd_points(api):
    response = await api.patch("/v1/clients/acme/members/me", json={"cpdPoints": 999}, headers=MEMBER)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.cpdPoints"


async def test_admin_creates_a_member_and_the_email_is_unique(api):
    body = {"firstName": "Nia", "lastName": "New", "email": "nia.new@example.org"}
    assert (await api.post("/v1/clients/acme/members", json=body, headers=ADMIN)).status_code == 201
    clash = await api.post("/v1/clients/acme/members", json=body, headers=ADMIN)
    assert clash.status_code == 409 and clash.json()["code"] == "conflict"
    assert (
        await api.post("/v1/clients/acme/members", json={**body, "email": "x@example.org"}, headers=STAFF)
    ).status_code == 403


async def test_a_malformed_email_is_422_before_convex(api):
    response = await api.post(
        "/v1/clients/acme/members", json={"firstName": "A", "lastName": "B", "email": "nope"}, headers=ADMIN
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.email"


async def test_an_email_the_platform_lists_is_one_its_api_takes_back(api):
    """The demo data's addresses are under `.test`: sent back, one is a duplicate (409), never a
    malformed email (422); a new one under `.test` is created as sent."""
    listed = (await api.get("/v1/clients/acme/members", params={"limit": 1}, headers=STAFF)).json()["items"][0]
    assert listed["email"].endswith(".test")
    body = {"firstName": "Alex", "lastName": "Again", "email": listed["email"]}
    clash = await api.post("/v1/clients/acme/members", json=body, headers=ADMIN)
    assert clash.status_code == 409 and clash.json()["code"] == "conflict", clash.text
    fresh = {**body, "email": "alex.again.0@members.acme.test"}
    created = await api.post("/v1/clients/acme/members", json=fresh, headers=ADMIN)
    assert created.status_code == 201 and created.json()["email"] == fresh["email"], created.text
