"""The BFF's email check accepts what the platform itself stores and shows: the demo data's
addresses are under `.test` (convex/demo.ts), which pydantic's EmailStr refused as a special-use
name, so an admin could not send a listed member's email back. The syntax is still checked."""

import pytest
from pydantic import ValidationError

from app.members.schemas import MemberCreate, MemberUpdate
from tests.unit.auth.test_authentication import bearer
from tests.unit.categories.test_routes import route_by_path
from tests.unit.courses.test_routes import ACME_ADMIN, ADMIN_ACTOR
from tests.unit.enrollments.test_routes import data_calls
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

MEMBERS = "/v1/clients/acme/members"
DEMO_EMAILS = ["alex.adams.0@members.acme.test", "member@acme.test", "support@platform.test"]
MALFORMED = ["nope", "a@b", "a@test", "a..b@example.org", "a b@example.org", "a@example.org\n", "a@[192.0.2.1]"]
NAMES = {"firstName": "Alex", "lastName": "Adams"}
MEMBER = {
    "id": "m1;memberProfiles",
    "userId": None,
    **NAMES,
    "email": DEMO_EMAILS[0],
    "phone": None,
    "status": "active",
    "cpdPoints": 0,
    "createdAt": 1,
    "updatedAt": 1,
}


@pytest.mark.parametrize("email", DEMO_EMAILS)
def test_the_demo_datas_emails_are_accepted_by_the_member_bodies(email):
    assert MemberCreate.model_validate({**NAMES, "email": email}).email == email
    assert MemberUpdate.model_validate({"email": email}).email == email


def test_the_address_is_normalised_as_emailstr_did():
    assert MemberCreate.model_validate({**NAMES, "email": " Alex <Alex@Members.ACME.test> "}).email == (
        "Alex@members.acme.test"
    )


@pytest.mark.parametrize("email", MALFORMED)
def test_a_malformed_email_is_still_refused(email):
    with pytest.raises(ValidationError, match="value is not a valid email address"):
        MemberCreate.model_validate({**NAMES, "email": email})


async def test_an_admin_sends_a_listed_members_email_back_and_convex_is_asked(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "members:create": MEMBER})
    body = {**NAMES, "email": "alex.adams.0@members.acme.test"}
    response = await client.post(MEMBERS, json=body, headers=bearer(make_token()))
    assert response.status_code == 201, response.text
    assert data_calls(calls) == [("members:create", {"actor": ADMIN_ACTOR, **body})]


@pytest.mark.parametrize("method", ["post", "patch"])
async def test_a_malformed_email_is_422_naming_the_field_and_nothing_is_written(client, convex, method):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN})
    url, body = (MEMBERS, {**NAMES, "email": "nope"}) if method == "post" else (f"{MEMBERS}/m1", {"email": "nope"})
    response = await client.request(method, url, json=body, headers=bearer(make_token()))
    problem = assert_problem(response, 422, "validation")
    assert [error["field"] for error in problem["errors"]] == ["body.email"]
    assert data_calls(calls) == []
