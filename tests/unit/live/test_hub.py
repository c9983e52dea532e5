"""The process's one official Convex client (app/live/hub.py): when it fails outside Convex's own
errors, the stream is answered as Convex unreachable and the next stream gets a new client."""

import pytest
from convex import ConvexError

import app.live.hub
from app.gateway.errors import UpstreamUnavailable
from app.live.hub import LiveHub


class OfficialClient:
    """Stands in for convex.ConvexClient; `failing` makes `subscribe` fail as its Rust side does
    when its connection worker is gone."""

    made = 0
    failing: Exception | None = None

    def __init__(self, url: str) -> None:
        OfficialClient.made += 1

    def set_admin_auth(self, key: str) -> None:
        pass

    def subscribe(self, path: str, args: dict) -> object:
        if OfficialClient.failing is not None:
            raise OfficialClient.failing
        raise AssertionError("not reached in these tests")


@pytest.fixture
def hub(monkeypatch) -> LiveHub:
    monkeypatch.setattr(app.live.hub, "ConvexClient", OfficialClient)
    OfficialClient.made, OfficialClient.failing = 0, None
    return LiveHub("http://convex.test", "key", max_streams_per_principal=5, first_result_timeout_s=1)


async def test_a_client_that_failed_is_answered_as_unreachable_and_replaced_by_the_next_stream(hub):
    OfficialClient.failing = Exception("channel closed")
    with pytest.raises(UpstreamUnavailable):
        await anext(hub.watch("tickets:messagesSince", {}))
    await hub.client()
    assert OfficialClient.made == 2


async def test_convexs_own_errors_pass_through_and_keep_the_client(hub):
    OfficialClient.failing = ConvexError("gone", {"code": "not_found", "message": "gone"})
    with pytest.raises(ConvexError):
        await anext(hub.watch("tickets:messagesSince", {}))
    await hub.client()
    assert OfficialClient.made == 1
