"""Routes that act for the caller or, given `memberId`, for a member (app/auth/actor.py,
`acting_for`), as the enrolment route uses it: a role holding both capabilities (the platform
admin) chooses by `memberId`. Members and staff: tests/unit/enrollments/test_routes.py."""

import json

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex
from tests.unit.tokens import make_token

ENROL = "/v1/clients/acme/courses/c1/enrollments"
ENROLLMENT = {
    "id": "n1;courseEnrollments",
    "courseId": "c1;courses",
    "memberId": "m1;memberProfiles",
    "status": "active",
    "enrolledAt": 1.7e12,
}
ADMIN = {**ACME_MEMBER, "role": "platform_admin"}


def answers(actor: dict) -> dict:
    return {"identity:resolveActor": actor, "enrollments:enrolSelf": ENROLLMENT, "enrollments:enrolMember": ENROLLMENT}


async def test_a_role_that_may_act_for_itself_and_for_members_acts_for_itself_without_member_id(client, convex):
    fake = FakeConvex(convex, answers(ADMIN))
    response = await client.post(ENROL, json={}, headers=bearer(make_token()))
    assert response.status_code == 201, response.text
    assert fake.calls[-1] == "enrollments:enrolSelf"


async def test_a_role_that_may_act_for_itself_and_for_members_acts_for_the_member_it_names(client, convex):
    fake = FakeConvex(convex, answers(ADMIN))
    response = await client.post(ENROL, json={"memberId": "m7"}, headers=bearer(make_token()))
    assert response.status_code == 201, response.text
    assert fake.calls[-1] == "enrollments:enrolMember"
    assert json.loads(convex.calls[-1].request.content)["args"]["memberId"] == "m7"
