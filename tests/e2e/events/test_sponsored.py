"""GET /events/sponsored: sponsor roles list what their sponsor backs; staff name the sponsor with
`sponsorId` (Convex's events:listSponsored takes it from staff only). Staff used to get 422 on a
`body.sponsorId` that no request could carry."""

import uuid

from tests.e2e.conftest import as_user
from tests.e2e.events.test_api import ADMIN, STAFF, new_published_event

SPONSORED = "/v1/clients/acme/events/sponsored"
SPONSOR = as_user("sponsor@acme.test")


async def test_staff_list_the_events_of_the_sponsor_they_name(api):
    event = await new_published_event(api)
    sponsor = await api.post(
        "/v1/clients/acme/sponsors", json={"name": f"Backer {uuid.uuid4().hex[:8]}"}, headers=ADMIN
    )
    assert sponsor.status_code == 201, sponsor.text
    attached = await api.put(f"/v1/clients/acme/events/{event['id']}/sponsors/{sponsor.json()['id']}", headers=ADMIN)
    assert attached.status_code == 204, attached.text

    listed = await api.get(SPONSORED, params={"sponsorId": sponsor.json()["id"]}, headers=STAFF)
    assert listed.status_code == 200, listed.text
    assert [e["id"] for e in listed.json()["items"]] == [event["id"]]


async def test_staff_who_name_no_sponsor_get_422_naming_the_query_parameter(api):
    response = await api.get(SPONSORED, headers=STAFF)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["query.sponsorId"]


async def test_a_sponsor_lists_the_events_its_sponsor_backs_without_naming_it(api):
    response = await api.get(SPONSORED, headers=SPONSOR)
    assert response.status_code == 200, response.text
    assert response.json()["items"], "the demo's first sponsor backs two events"
