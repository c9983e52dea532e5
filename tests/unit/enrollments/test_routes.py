"""The enrollment routes (app/enrollments/routes.py): self or on-behalf enrolment, lists, actions."""

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.categories.test_routes import route_by_path
from tests.unit.courses.test_routes import ACME_STAFF, STAFF_ACTOR, convex_error
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

MEMBER_ACTOR = {"clientId": "k1;clients", "role": "member", "userId": "u1;users"}
ENROLLMENT = {
    "id": "n1;courseEnrollments",
    "courseId": "c1;courses",
    "memberId": "m1;memberProfiles",
    "status": "active",
    "enrolledAt": 1.7e12,
}
ENROLLMENT_OUT = {**ENROLLMENT, "enrolledAt": 1_700_000_000_000, "completedAt": None, "cpdPointsAwarded": None}
MEMBER = {"id": "m1;memberProfiles", "firstName": "Mia", "lastName": "M", "email": "m@acme.test"}
ENROL_URL = "/v1/clients/acme/courses/c1/enrollments"
URL = "/v1/clients/acme/enrollments"


def data_calls(calls: list[dict]) -> list[tuple[str, dict]]:
    return [(c["path"], c["args"]) for c in calls if c["path"] != "identity:resolveActor"]


async def test_a_member_without_member_id_enrols_itself(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_MEMBER, "enrollments:enrolSelf": ENROLLMENT})
    response = await client.post(ENROL_URL, json={}, headers=bearer(make_token()))
    assert response.status_code == 201 and response.json() == ENROLLMENT_OUT
    assert data_calls(calls) == [("enrollments:enrolSelf", {"actor": MEMBER_ACTOR, "courseId": "c1"})]


async def test_staff_with_member_id_enrol_that_member(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF, "enrollments:enrolMember": ENROLLMENT})
    response = await client.post(ENROL_URL, json={"memberId": "m1"}, headers=bearer(make_token()))
    assert response.status_code == 201, response.text
    assert data_calls(calls) == [
        ("enrollments:enrolMember", {"actor": STAFF_ACTOR, "courseId": "c1", "memberId": "m1"})
    ]


async def test_a_member_naming_another_member_is_403_before_any_data_call(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_MEMBER})
    response = await client.post(ENROL_URL, json={"memberId": "m2"}, headers=bearer(make_token()))
    assert assert_problem(response, 403, "forbidden")["capability"] == "enrollments.enrolMember"
    assert data_calls(calls) == []


async def test_staff_who_omit_member_id_get_422_naming_it(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF})
    body = assert_problem(await client.post(ENROL_URL, json={}, headers=bearer(make_token())), 422, "validation")
    assert body["errors"][0]["field"] == "body.memberId"
    assert data_calls(calls) == []


async def test_a_sponsor_may_not_enrol(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": {**ACME_MEMBER, "role": "sponsor_user", "memberId": None}})
    body = assert_problem(await client.post(ENROL_URL, json={}, headers=bearer(make_token())), 403, "forbidden")
    assert body["capability"] == "enrollments.enrolSelf or enrollments.enrolMember"
    assert data_calls(calls) == []


async def test_unknown_fields_in_the_enrol_body_are_refused(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_MEMBER})
    response = await client.post(ENROL_URL, json={"status": "completed"}, headers=bearer(make_token()))
    assert assert_problem(response, 422, "validation")["errors"][0]["field"] == "body.status"
    assert data_calls(calls) == []


async def test_already_enrolled_is_a_409(client, convex):
    convex.post("/api/query").mock(return_value=convex_value(ACME_MEMBER))
    convex.post("/api/mutation").mock(return_value=convex_error("already_enrolled", "The member is already enrolled"))
    response = await client.post(ENROL_URL, json={}, headers=bearer(make_token()))
    assert assert_problem(response, 409, "already_enrolled")["detail"] == "The member is already enrolled"


async def test_course_list_sends_the_course_the_status_and_the_page(client, convex):
    page = {"page": [{**ENROLLMENT, "member": MEMBER}], "isDone": True, "continueCursor": "end"}
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF, "enrollments:listForCourse": page})
    response = await client.get(ENROL_URL, params={"status": "active"}, headers=bearer(make_token()))
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [{**ENROLLMENT_OUT, "member": MEMBER}]
    assert data_calls(calls) == [
        (
            "enrollments:listForCourse",
            {"actor": STAFF_ACTOR, "page": {"numItems": 30, "cursor": None}, "courseId": "c1", "status": "active"},
        )
    ]


async def test_mine_is_its_own_route_not_an_enrollment_id(client, convex):
    page = {"page": [ENROLLMENT], "isDone": True, "continueCursor": "end"}
    calls = route_by_path(convex, {"identity:resolveActor": ACME_MEMBER, "enrollments:listMine": page})
    response = await client.get(f"{URL}/mine", headers=bearer(make_token()))
    assert response.status_code == 200 and response.json()["items"] == [ENROLLMENT_OUT]
    assert data_calls(calls) == [
        ("enrollments:listMine", {"actor": MEMBER_ACTOR, "page": {"numItems": 30, "cursor": None}})
    ]


async def test_a_member_may_not_list_a_course_s_enrollments(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_MEMBER})
    body = assert_problem(await client.get(ENROL_URL, headers=bearer(make_token())), 403, "forbidden")
    assert body["capability"] == "enrollments.list"
    assert data_calls(calls) == []


async def test_withdraw_and_complete_send_the_enrollment(client, convex):
    calls = route_by_path(
        convex, {"identity:resolveActor": ACME_MEMBER, "enrollments:withdraw": {**ENROLLMENT, "status": "withdrawn"}}
    )
    response = await client.post(f"{URL}/n1/withdraw", headers=bearer(make_token()))
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert data_calls(calls) == [("enrollments:withdraw", {"actor": MEMBER_ACTOR, "enrollmentId": "n1"})]

    # A member may not mark completion.
    body = assert_problem(await client.post(f"{URL}/n1/complete", headers=bearer(make_token())), 403, "forbidden")
    assert body["capability"] == "enrollments.complete"
    assert len(data_calls(calls)) == 1
