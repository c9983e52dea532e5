"""A session's access token refreshed when it has expired (SessionManager.authenticate): one
refresh at a time per session across processes (the lease in Convex), the provider's refusal
ending the session, and its unavailability ending nothing."""

import asyncio

import httpx
import pytest
import time_machine

from app.http.problems import Problem
from app.sessions import manager as manager_module
from app.sessions.manager import SessionManager
from tests.unit.sessions.conftest import (
    SUBJECT,
    FakeProvider,
    FakeSessions,
    new_store,
    opened_tokens,
    sealed_tokens,
    sign_in_settings,
)

HANDLE = "cookie-value-1"


def expired_session(fake_sessions: FakeSessions, **tokens) -> dict:
    """A live session whose access token expired a second ago."""
    sealed = sealed_tokens(HANDLE, **tokens)
    return fake_sessions.add_session(HANDLE, tokens=sealed, accessExpiresAt=FakeSessions.now() - 1000)


def refresh_form(provider: FakeProvider) -> list[dict[str, str]]:
    return [dict(httpx.QueryParams(r.content.decode())) for r in provider.calls_to("/token")]


async def test_a_live_access_token_is_used_as_is(manager, provider, fake_sessions):
    doc = fake_sessions.add_session(HANDLE, tokens=sealed_tokens(HANDLE))
    session = await manager.authenticate(HANDLE)
    assert session is not None and session.id == doc["id"]
    assert fake_sessions.paths() == ["sessions:resolve"] and provider.calls_to("/token") == []


async def test_an_access_token_is_refreshed_from_the_instant_it_expires(manager, provider, fake_sessions):
    with time_machine.travel(1_800_000_000, tick=False):
        fake_sessions.add_session(HANDLE, tokens=sealed_tokens(HANDLE), accessExpiresAt=1_800_000_000_000)
        provider.answers_token(200, {"access_token": "access-1", "token_type": "Bearer", "expires_in": 60})
        session = await manager.authenticate(HANDLE)
    assert session is not None and session.access_expires_at == 1_800_000_060_000
    assert len(provider.calls_to("/token")) == 1


async def test_an_unknown_cookie_authenticates_no_one(manager, provider, fake_sessions):
    assert await manager.authenticate("forged") is None
    assert fake_sessions.paths() == ["sessions:resolve"]


async def test_an_expired_access_token_is_refreshed_under_the_lease_and_the_new_tokens_sealed(
    manager, provider, fake_sessions
):
    doc = expired_session(fake_sessions, id_token="id-0")
    provider.answers_token(
        200, {"access_token": "access-1", "token_type": "Bearer", "expires_in": 60, "refresh_token": "refresh-1"}
    )
    before = FakeSessions.now()
    session = await manager.authenticate(HANDLE)
    assert session is not None and session.id == doc["id"]
    assert before + 60_000 <= session.access_expires_at <= FakeSessions.now() + 60_000
    [form] = refresh_form(provider)
    assert form == {"grant_type": "refresh_token", "refresh_token": "refresh-0"}
    [lease] = fake_sessions.args_of("sessions:beginRefresh")
    assert lease["leaseMs"] == 15_000 and len(lease["holder"]) == 16
    [finish] = fake_sessions.args_of("sessions:finishRefresh")
    assert finish["holder"] == lease["holder"] and finish["accessExpiresAt"] == session.access_expires_at
    assert opened_tokens(HANDLE, finish["tokens"]) == {
        "access_token": "access-1",
        "refresh_token": "refresh-1",
        "id_token": "id-0",
    }
    assert fake_sessions.leases == {}


async def test_a_refresh_answer_without_a_new_refresh_token_keeps_the_old_one(manager, provider, fake_sessions):
    expired_session(fake_sessions)
    provider.answers_token(200, {"access_token": "access-1", "token_type": "Bearer"})
    await manager.authenticate(HANDLE)
    [finish] = fake_sessions.args_of("sessions:finishRefresh")
    assert opened_tokens(HANDLE, finish["tokens"])["refresh_token"] == "refresh-0"


async def test_a_refreshed_id_token_of_the_same_user_replaces_the_old_one(manager, provider, fake_sessions):
    expired_session(fake_sessions, id_token="id-0")
    new_id_token = provider.id_token()
    provider.answers_token(200, {"access_token": "access-1", "token_type": "Bearer", "id_token": new_id_token})
    assert await manager.authenticate(HANDLE) is not None
    [finish] = fake_sessions.args_of("sessions:finishRefresh")
    assert opened_tokens(HANDLE, finish["tokens"])["id_token"] == new_id_token


async def test_a_refreshed_id_token_naming_another_user_ends_the_session(manager, provider, fake_sessions):
    doc = expired_session(fake_sessions)
    provider.answers_token(
        200, {"access_token": "access-1", "token_type": "Bearer", "id_token": provider.id_token(sub="user|other")}
    )
    assert await manager.authenticate(HANDLE) is None
    assert fake_sessions.ended == {doc["id"]: "refresh_failed"}


async def test_a_refresh_the_provider_refuses_ends_the_session(manager, provider, fake_sessions):
    doc = expired_session(fake_sessions)
    provider.answers_token(400, {"error": "invalid_grant"})
    assert await manager.authenticate(HANDLE) is None
    assert fake_sessions.ended == {doc["id"]: "refresh_failed"}
    assert fake_sessions.args_of("sessions:revoke")[0]["reason"] == "refresh_failed"


async def test_a_session_without_a_refresh_token_ends_when_its_access_token_expires(manager, provider, fake_sessions):
    doc = expired_session(fake_sessions, refresh=None)
    assert await manager.authenticate(HANDLE) is None
    assert fake_sessions.ended == {doc["id"]: "refresh_failed"} and provider.calls_to("/token") == []


async def test_a_session_whose_tokens_cannot_be_opened_ends_when_they_are_needed(manager, provider, fake_sessions):
    doc = fake_sessions.add_session(
        HANDLE, tokens=sealed_tokens("another-cookie"), accessExpiresAt=FakeSessions.now() - 1000
    )
    assert await manager.authenticate(HANDLE) is None
    assert fake_sessions.ended == {doc["id"]: "refresh_failed"} and provider.calls_to("/token") == []


async def test_an_unreachable_provider_answers_503_and_keeps_the_session(manager, provider, fake_sessions):
    expired_session(fake_sessions)
    provider.answers_token(502, {"message": "bad gateway"})
    with pytest.raises(Problem) as raised:
        await manager.authenticate(HANDLE)
    assert raised.value.code == "provider_unavailable" and raised.value.headers["Retry-After"] == "5"
    assert "token endpoint" in raised.value.detail
    assert fake_sessions.ended == {}


async def test_tokens_another_process_refreshed_meanwhile_are_used_and_the_lease_given_back(
    manager, provider, fake_sessions
):
    doc = expired_session(fake_sessions)
    sealed = doc["tokens"]
    fresh_until = FakeSessions.now() + 60_000

    def refreshed_elsewhere(**args):
        doc["accessExpiresAt"] = fresh_until
        return FakeSessions.sessions_beginRefresh(fake_sessions, **args)

    fake_sessions.sessions_beginRefresh = refreshed_elsewhere  # type: ignore[method-assign]
    session = await manager.authenticate(HANDLE)
    assert session is not None and session.access_expires_at == fresh_until
    assert provider.calls_to("/token") == []
    [finish] = fake_sessions.args_of("sessions:finishRefresh")
    assert finish["tokens"] == sealed and finish["accessExpiresAt"] == fresh_until
    assert doc["tokens"] == sealed
    assert fake_sessions.leases == {}


def _lease_lost() -> httpx.Response:
    data = {"code": "conflict", "message": "lease lost"}
    return httpx.Response(200, json={"status": "error", "errorMessage": "x", "errorData": data, "logLines": []})


def refreshed_elsewhere(fake_sessions: FakeSessions, doc: dict, *, fresh_until: int, then_ended: bool = False):
    """beginRefresh finds the tokens refreshed by another process (and the session then ended)."""

    def begin(**args):
        doc["accessExpiresAt"] = fresh_until
        answer = FakeSessions.sessions_beginRefresh(fake_sessions, **args)
        if then_ended:
            fake_sessions.ended[doc["id"]] = "logout"
        return answer

    fake_sessions.sessions_beginRefresh = begin  # type: ignore[method-assign]


async def test_fresh_tokens_whose_lease_was_lost_are_still_used_while_the_session_lives(
    manager, provider, fake_sessions
):
    doc = expired_session(fake_sessions)
    fresh_until = FakeSessions.now() + 60_000
    refreshed_elsewhere(fake_sessions, doc, fresh_until=fresh_until)
    fake_sessions.refusals["sessions:finishRefresh"] = _lease_lost()
    session = await manager.authenticate(HANDLE)
    assert session is not None and session.access_expires_at == fresh_until
    assert provider.calls_to("/token") == []


async def test_fresh_tokens_of_a_session_ended_meanwhile_authenticate_no_one(manager, provider, fake_sessions):
    doc = expired_session(fake_sessions)
    refreshed_elsewhere(fake_sessions, doc, fresh_until=FakeSessions.now() + 60_000, then_ended=True)
    assert await manager.authenticate(HANDLE) is None
    assert provider.calls_to("/token") == []


@pytest.fixture
def no_poll_wait(monkeypatch):
    """Polling Convex for another process's lease without the real pause between polls."""
    monkeypatch.setattr(manager_module, "REFRESH_POLL_S", 0)


async def test_a_request_waits_for_another_processs_refresh_and_uses_its_tokens(
    manager, provider, fake_sessions, no_poll_wait
):
    doc = expired_session(fake_sessions)
    fake_sessions.leases[doc["id"]] = ("another-process", FakeSessions.now() + 15_000)
    fresh_until = FakeSessions.now() + 60_000

    def other_process_finishes(sessionId: str) -> bool:
        doc["accessExpiresAt"] = fresh_until
        fake_sessions.leases.clear()
        return FakeSessions.sessions_isActive(fake_sessions, sessionId)

    fake_sessions.sessions_isActive = other_process_finishes  # type: ignore[method-assign]
    session = await manager.authenticate(HANDLE)
    assert session is not None and session.access_expires_at == fresh_until
    assert fake_sessions.paths().count("sessions:beginRefresh") == 2 and provider.calls_to("/token") == []


async def test_a_session_ended_while_waiting_for_the_lease_authenticates_no_one(manager, provider, fake_sessions):
    doc = expired_session(fake_sessions)
    fake_sessions.leases[doc["id"]] = ("another-process", FakeSessions.now() + 15_000)

    def signed_out(sessionId: str) -> bool:
        fake_sessions.ended[doc["id"]] = "logout"
        return False

    fake_sessions.sessions_isActive = signed_out  # type: ignore[method-assign]
    assert await manager.authenticate(HANDLE) is None
    assert provider.calls_to("/token") == []


async def test_a_refresh_that_never_finishes_elsewhere_answers_503_after_the_lease(
    manager, provider, fake_sessions, monotonic, no_poll_wait
):
    doc = expired_session(fake_sessions)
    fake_sessions.leases[doc["id"]] = ("another-process", FakeSessions.now() + 10**9)

    def polled(sessionId: str) -> bool:
        monotonic.advance(4.0)  # each poll, as if four seconds had passed
        return True

    fake_sessions.sessions_isActive = polled  # type: ignore[method-assign]
    with pytest.raises(Problem) as raised:
        await manager.authenticate(HANDLE)
    assert raised.value.code == "provider_unavailable" and "another refresh" in raised.value.detail
    # Given up past the lease (15 s), not before: four polls of four seconds.
    assert fake_sessions.paths().count("sessions:isActive") == 4


async def test_concurrent_requests_of_one_process_refresh_once(manager, provider, fake_sessions):
    expired_session(fake_sessions)
    first_refreshing, second_arrived = asyncio.Event(), asyncio.Event()

    async def slow_provider(request: httpx.Request) -> httpx.Response:
        first_refreshing.set()
        await second_arrived.wait()  # the second request comes while the first refreshes
        return httpx.Response(200, json={"access_token": "access-1", "token_type": "Bearer", "expires_in": 60})

    def resolve(**args: object) -> object:
        answer = FakeSessions.sessions_resolve(fake_sessions, **args)  # type: ignore[arg-type]
        if first_refreshing.is_set():
            second_arrived.set()
        return answer

    provider.router.post("/token").mock(side_effect=slow_provider)
    fake_sessions.sessions_resolve = resolve  # type: ignore[method-assign,assignment]
    first = asyncio.ensure_future(manager.authenticate(HANDLE))
    await first_refreshing.wait()
    second = asyncio.ensure_future(manager.authenticate(HANDLE))
    first_session, second_session = await asyncio.gather(first, second)
    assert first_session is not None and first_session == second_session
    assert len(provider.calls_to("/token")) == 1
    assert fake_sessions.paths().count("sessions:beginRefresh") == 1


async def test_a_session_signed_out_during_its_refresh_is_not_revived(manager, provider, fake_sessions):
    doc = expired_session(fake_sessions)

    def signed_out_meanwhile(request):
        fake_sessions.ended[doc["id"]] = "logout"
        return httpx.Response(200, json={"access_token": "access-1", "token_type": "Bearer", "expires_in": 60})

    provider.router.post("/token").mock(side_effect=signed_out_meanwhile)
    assert await manager.authenticate(HANDLE) is None


async def test_a_lease_lost_to_another_refresh_gives_the_session_it_stored(manager, provider, fake_sessions):
    doc = expired_session(fake_sessions)

    def taken_over(request):
        fake_sessions.leases[doc["id"]] = ("another-process", FakeSessions.now() + 15_000)
        doc["accessExpiresAt"] = FakeSessions.now() + 99_000
        return httpx.Response(200, json={"access_token": "access-1", "token_type": "Bearer", "expires_in": 60})

    provider.router.post("/token").mock(side_effect=taken_over)
    session = await manager.authenticate(HANDLE)
    assert session is not None and session.access_expires_at == doc["accessExpiresAt"]
    assert fake_sessions.paths()[-2:] == ["sessions:isActive", "sessions:resolve"]
    assert session.auth_subject == SUBJECT


async def test_a_session_signed_out_during_its_refresh_is_not_served_from_the_cache(
    settings, gateway, provider, fake_sessions
):
    store = new_store(gateway, cache_ttl_s=60)
    manager = SessionManager.from_settings(settings.model_copy(update=sign_in_settings(settings)), store)
    doc = expired_session(fake_sessions)

    def signed_out_meanwhile(request):
        fake_sessions.ended[doc["id"]] = "logout"
        return httpx.Response(200, json={"access_token": "access-1", "token_type": "Bearer", "expires_in": 60})

    provider.router.post("/token").mock(side_effect=signed_out_meanwhile)
    try:
        assert await manager.authenticate(HANDLE) is None
    finally:
        await manager.aclose()


async def test_one_sessions_slow_refresh_does_not_hold_up_anothers(manager, provider, fake_sessions):
    for handle in ("cookie-a", "cookie-b"):
        sealed = sealed_tokens(handle, refresh=f"refresh-{handle}")
        fake_sessions.add_session(handle, tokens=sealed, accessExpiresAt=FakeSessions.now() - 1000)
    a_refreshing, b_refreshed = asyncio.Event(), asyncio.Event()

    async def provider_answers(request: httpx.Request) -> httpx.Response:
        if dict(httpx.QueryParams(request.content.decode()))["refresh_token"] == "refresh-cookie-a":
            a_refreshing.set()
            await b_refreshed.wait()  # a's provider call is slow: until b's refresh is done
        return httpx.Response(200, json={"access_token": "access-1", "token_type": "Bearer", "expires_in": 60})

    provider.router.post("/token").mock(side_effect=provider_answers)
    a = asyncio.ensure_future(manager.authenticate("cookie-a"))
    await a_refreshing.wait()
    b = await asyncio.wait_for(manager.authenticate("cookie-b"), timeout=1)
    b_refreshed.set()
    assert b is not None and await a is not None
