"""The official `convex` Python client, unchanged, against the embedded backend.

Runs on the backend's own fixture functions (devbackend/test/fixture/convex), so
the contract is checked apart from the domain: values both ways, a mutation, a
ConvexError with its data, and the admin-key rules for internal functions.
"""

from typing import TypeVar

import pytest
from convex import ConvexClient, ConvexError, ConvexInt64
from convex.http_client import ConvexExecutionError, ConvexHttpClient

from devtools.embedded import EmbeddedBackend
from tests.e2e.conftest import FIXTURE_ADMIN_KEY as ADMIN_KEY

Client = TypeVar("Client", ConvexHttpClient, ConvexClient)


def signed_in_as_admin(client: Client) -> Client:
    client.set_admin_auth(ADMIN_KEY)
    return client


@pytest.fixture
def admin(fixture_backend: EmbeddedBackend) -> ConvexHttpClient:
    return signed_in_as_admin(ConvexHttpClient(fixture_backend.url))


def test_query_round_trips_int64_bytes_and_floats(admin):
    value = admin.query("notes:echo", {"n": ConvexInt64(2**40), "blob": b"\x00\xff", "f": 2.5})
    assert value == {"n": 2**40, "blob": b"\x00\xff", "f": 2.5, "whole": 42.0}
    assert isinstance(value["whole"], float)


def test_mutation_round_trips_and_is_visible_to_the_next_query(admin):
    assert admin.mutation("notes:add", {"text": "from python"}) is None
    assert {"text": "from python", "count": 1} in admin.query("notes:list")


def test_convex_error_arrives_with_its_data(admin):
    with pytest.raises(ConvexError) as caught:
        admin.query("notes:missing")
    assert caught.value.data == {"code": "not_found", "message": "note not found"}


def test_plain_function_error_is_an_execution_error(admin):
    with pytest.raises(ConvexExecutionError, match="something internal broke"):
        admin.query("notes:broken")


def test_internal_function_is_refused_without_the_admin_key(fixture_backend):
    anonymous = ConvexHttpClient(fixture_backend.url)
    with pytest.raises(ConvexExecutionError, match="Could not find public function for 'notes:list'"):
        anonymous.query("notes:list")


def test_internal_function_is_refused_with_a_wrong_admin_key(fixture_backend):
    wrong = ConvexHttpClient(fixture_backend.url)
    wrong.set_admin_auth("not-the-key")
    with pytest.raises(Exception, match="401 BadAdminKey"):
        wrong.query("notes:list")


def test_public_function_needs_no_key(fixture_backend):
    anonymous = ConvexHttpClient(fixture_backend.url)
    assert anonymous.mutation("notes:publicAdd", {"text": "anon"}) is None


# The official ConvexClient (Convex's Rust client inside) over the WebSocket sync protocol.


@pytest.fixture
def live_client(fixture_backend: EmbeddedBackend) -> ConvexClient:
    return signed_in_as_admin(ConvexClient(fixture_backend.url))


def test_sync_client_queries_and_mutates_over_the_websocket(live_client):
    assert live_client.mutation("notes:add", {"text": "over the socket"}) is None
    assert {"text": "over the socket", "count": 1} in live_client.query("notes:list")
    assert live_client.query("notes:echo", {"n": ConvexInt64(3), "blob": b"x", "f": 1.0})["whole"] == 42.0


def test_a_subscription_receives_a_write_made_over_http(live_client, admin):
    subscription = live_client.subscribe("notes:list", {})
    results = iter(subscription)
    before = next(results)
    admin.mutation("notes:add", {"text": "seen live"})
    after = next(results)
    assert after == [*before, {"text": "seen live", "count": 1}]
    subscription.unsubscribe()


def test_a_subscription_raises_a_convex_error_with_its_data(live_client):
    with pytest.raises(ConvexError) as caught:
        next(iter(live_client.subscribe("notes:missing", {})))
    assert caught.value.data == {"code": "not_found", "message": "note not found"}
