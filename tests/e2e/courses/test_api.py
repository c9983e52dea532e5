"""Courses and enrollments through HTTP, on the demo data."""

from tests.e2e.conftest import as_user, created_and_published

ADMIN, STAFF, MEMBER, MEMBER2 = (as_user(f"{u}@acme.test") for u in ("admin", "staff", "member", "member2"))


async def published_course(api, cpd: int = 3) -> dict:
    return await created_and_published(api, "courses", {"title": "E2E Course", "cpdPoints": cpd})


async def test_the_new_user_walkthrough(api):
    """README: a member lists published courses; the same token on globex is 404; no token is 401."""
    listed = await api.get("/v1/clients/acme/courses", headers=MEMBER)
    assert listed.status_code == 200 and listed.json()["items"]
    assert {c["status"] for c in listed.json()["items"]} == {"published"}
    other = await api.get("/v1/clients/globex/courses", headers=MEMBER)
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    anonymous = await api.get("/v1/clients/acme/courses")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")


async def test_enrol_complete_and_cpd_points_once(api):
    course = await published_course(api, cpd=4)
    before = (await api.get("/v1/clients/acme/members/me", headers=MEMBER2)).json()["cpdPoints"]
    enrollment = await api.post(f"/v1/clients/acme/courses/{course['id']}/enrollments", json={}, headers=MEMBER2)
    assert enrollment.status_code == 201, enrollment.text
    again = await api.post(f"/v1/clients/acme/courses/{course['id']}/enrollments", json={}, headers=MEMBER2)
    assert again.status_code == 409 and again.json()["code"] == "already_enrolled"
    for _ in range(2):
        done = await api.post(f"/v1/clients/acme/enrollments/{enrollment.json()['id']}/complete", headers=STAFF)
        assert done.status_code == 200 and done.json()["cpdPointsAwarded"] == 4
    after = (await api.get("/v1/clients/acme/members/me", headers=MEMBER2)).json()["cpdPoints"]
    assert after == before + 4


async def test_members_cannot_see_drafts_or_complete_their_own(api):
    draft = await api.post("/v1/clients/acme/courses", json={"title": "Hidden"}, headers=STAFF)
    assert (await api.get(f"/v1/clients/acme/courses/{draft.json()['id']}", headers=MEMBER)).status_code == 404
    course = await published_course(api)
    enrollment = (
        await api.post(f"/v1/clients/acme/courses/{course['id']}/enrollments", json={}, headers=MEMBER)
    ).json()
    refused = await api.post(f"/v1/clients/acme/enrollments/{enrollment['id']}/complete", headers=MEMBER)
    assert refused.status_code == 403 and refused.json()["capability"] == "enrollments.complete"


async def test_a_course_with_enrollments_cannot_be_deleted(api):
    course = await published_course(api)
    await api.post(f"/v1/clients/acme/courses/{course['id']}/enrollments", json={}, headers=MEMBER)
    response = await api.delete(f"/v1/clients/acme/courses/{course['id']}", headers=ADMIN)
    assert response.status_code == 409 and response.json()["code"] == "conflict"


async def test_a_category_of_another_client_reads_as_missing(api):
    course = await published_course(api)
    theirs = await api.post(
        "/v1/clients/globex/categories", json={"name": "G", "slug": "g-only"}, headers=as_user("admin@globex.test")
    )
    response = await api.put(f"/v1/clients/acme/courses/{course['id']}/categories/{theirs.json()['id']}", headers=STAFF)
    assert response.status_code == 404
