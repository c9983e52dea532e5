"""Routes that act for the caller or, given `memberId`, for a member (app/auth/actor.py,
`acting_for`), as the enrolment route uses it: a role holding both capabilities (the platform
admin) chooses by `memberId`. Members and staff through the route: tests/unit/enrollments/test_routes.py;
the function's rules for each kind of role are pinned here too, since mutation testing runs these tests only."""

import json

import pytest

from app.auth.actor import Actor, acting_for
from app.http.problems import Problem, problem_json
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex
from tests.unit.enrollments.test_routes import ENROL_URL as ENROL
from tests.unit.enrollments.test_routes import ENROLLMENT
from tests.unit.tokens import make_token

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


SELF, FOR_MEMBER = "enrollments.enrolSelf", "enrollments.enrolMember"


def actor_with(role: str) -> Actor:
    return Actor(clientId="cl1", role=role, userId="u1")


def test_a_member_without_member_id_acts_for_itself():
    assert acting_for(actor_with("member"), None, SELF, FOR_MEMBER) is False


def test_a_member_naming_a_member_is_403_naming_the_on_behalf_capability():
    with pytest.raises(Problem) as refused:
        acting_for(actor_with("member"), "m2", SELF, FOR_MEMBER)
    assert (refused.value.status, refused.value.code) == (403, "forbidden")
    assert refused.value.extra == {"capability": FOR_MEMBER}


def test_staff_naming_a_member_act_for_that_member():
    assert acting_for(actor_with("client_user"), "m2", SELF, FOR_MEMBER) is True


def test_staff_who_omit_member_id_get_422_naming_the_field():
    with pytest.raises(Problem) as refused:
        acting_for(actor_with("client_admin"), None, SELF, FOR_MEMBER)
    assert (refused.value.status, refused.value.code) == (422, "validation")
    assert [error.field for error in refused.value.errors or []] == ["body.memberId"]
    assert json.loads(problem_json(refused.value).body)["detail"]  # a problem that can be answered


def test_a_role_with_neither_capability_is_403_naming_the_self_capability():
    with pytest.raises(Problem) as refused:
        acting_for(actor_with("sponsor_user"), None, SELF, FOR_MEMBER)
    assert (refused.value.status, refused.value.code) == (403, "forbidden")
    assert refused.value.extra == {"capability": SELF}
