"""The session store (app/sessions/store.py): what it asks Convex, what it remembers, and that a
session ended by this process is never served from its cache again."""

import httpx
import pytest
import time_machine
from convex import ConvexError

from app.sessions.store import RefreshLeaseLost, Session, SessionStore
from tests.unit.sessions.conftest import ISSUER, SUBJECT, FakeSessions, new_store, sha256_hex

HANDLE = "cookie-value-1"
OTHER = "cookie-value-2"


@pytest.fixture
def store(gateway) -> SessionStore:
    """A store that reuses what it resolved for a minute: what it asks Convex shows its cache."""
    return new_store(gateway, cache_ttl_s=60)


def error(code: str) -> httpx.Response:
    data = {"code": code, "message": f"{code} message"}
    return httpx.Response(200, json={"status": "error", "errorMessage": "x", "errorData": data, "logLines": []})


def test_a_new_handle_is_32_random_bytes_in_base64url():
    handles = {SessionStore.new_handle() for _ in range(50)}
    assert len(handles) == 50 and all(len(h) == 43 and "=" not in h for h in handles)


async def test_resolve_asks_by_the_handles_hash_with_the_idle_timeout(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE)
    session = await store.resolve(HANDLE)
    assert session == Session.from_convex(fake_sessions.public(doc))
    assert fake_sessions.calls == [("sessions:resolve", {"handleHash": sha256_hex(HANDLE), "idleTimeoutMs": 1_800_000})]


async def test_a_resolved_session_and_an_unknown_handle_are_reused_within_the_cache_ttl(store, fake_sessions):
    fake_sessions.add_session(HANDLE)
    first = await store.resolve(HANDLE)
    assert await store.resolve(HANDLE) == first
    assert await store.resolve(OTHER) is None
    assert await store.resolve(OTHER) is None
    assert fake_sessions.paths() == ["sessions:resolve", "sessions:resolve"]


async def test_without_a_cache_every_resolve_asks_convex(gateway, fake_sessions):
    store = new_store(gateway, cache_ttl_s=0)
    fake_sessions.add_session(HANDLE)
    await store.resolve(HANDLE)
    await store.resolve(HANDLE)
    assert fake_sessions.paths() == ["sessions:resolve", "sessions:resolve"]


async def test_a_session_due_a_slide_is_touched_and_the_touched_session_returned(store, fake_sessions):
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        doc = fake_sessions.add_session(HANDLE)
        clock.shift(90)
        session = await store.resolve(HANDLE)
    assert fake_sessions.paths() == ["sessions:resolve", "sessions:touch"]
    assert fake_sessions.args_of("sessions:touch") == [{"handleHash": sha256_hex(HANDLE), "idleTimeoutMs": 1_800_000}]
    assert session is not None and session.last_seen_at == doc["createdAt"] + 90_000
    assert session.idle_expires_at == doc["createdAt"] + 90_000 + 1_800_000


async def test_a_session_ended_between_resolve_and_touch_is_none(store, fake_sessions):
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        fake_sessions.add_session(HANDLE)
        clock.shift(90)
        fake_sessions.refusals["sessions:touch"] = httpx.Response(
            200, json={"status": "success", "value": None, "logLines": []}
        )
        assert await store.resolve(HANDLE) is None
        assert await store.resolve(HANDLE) is None  # remembered as unknown
    assert fake_sessions.paths() == ["sessions:resolve", "sessions:touch"]


async def test_a_failed_slide_keeps_the_resolved_session(store, fake_sessions):
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        doc = fake_sessions.add_session(HANDLE)
        clock.shift(90)
        fake_sessions.refusals["sessions:touch"] = httpx.Response(500, text="down")
        session = await store.resolve(HANDLE)
    assert session is not None and session.id == doc["id"] and session.last_seen_at == doc["createdAt"]


async def test_a_created_session_is_resolved_without_asking_convex(store, fake_sessions):
    created = await store.create(
        HANDLE,
        auth_subject=SUBJECT,
        issuer=ISSUER,
        provider_sid=None,
        tokens="v1.x",
        access_expires_at=1,
        user_agent=None,
    )
    assert await store.resolve(HANDLE) == created
    assert fake_sessions.paths() == ["sessions:create"]


async def test_revoke_ends_the_session_and_this_process_forgets_it_at_once(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE)
    assert await store.resolve(HANDLE) is not None
    await store.revoke(HANDLE, "logout")
    assert fake_sessions.args_of("sessions:revoke") == [{"handleHash": sha256_hex(HANDLE), "reason": "logout"}]
    assert fake_sessions.ended == {doc["id"]: "logout"}
    assert await store.resolve(HANDLE) is None


async def test_revoke_by_id_sends_the_owner_only_when_given_and_forgets_the_session(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE)
    assert await store.resolve(HANDLE) is not None
    assert await store.revoke_by_id(doc["id"], auth_subject="user|other", reason="user") is False
    assert await store.revoke_by_id(doc["id"], auth_subject=None, reason="admin") is True
    assert fake_sessions.args_of("sessions:revokeById") == [
        {"sessionId": doc["id"], "reason": "user", "authSubject": "user|other"},
        {"sessionId": doc["id"], "reason": "admin"},
    ]
    assert await store.resolve(HANDLE) is None


async def test_revoke_for_provider_forgets_every_session_it_ended(store, fake_sessions):
    first, second = fake_sessions.add_session(HANDLE), fake_sessions.add_session(OTHER, providerSid="idp-sid-2")
    await store.resolve(HANDLE)
    await store.resolve(OTHER)
    assert await store.revoke_for_provider(ISSUER, sid="idp-sid-1", sub=None) == 1
    assert fake_sessions.args_of("sessions:revokeForProvider") == [{"issuer": ISSUER, "sid": "idp-sid-1"}]
    assert await store.resolve(HANDLE) is None and await store.resolve(OTHER) is not None
    assert await store.revoke_for_provider(ISSUER, sid=None, sub=SUBJECT) == 1
    assert fake_sessions.args_of("sessions:revokeForProvider")[1] == {"issuer": ISSUER, "sub": SUBJECT}
    assert fake_sessions.ended == {first["id"]: "backchannel", second["id"]: "backchannel"}


async def test_lists_and_liveness_are_asked_of_convex_every_time(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE)
    fake_sessions.emails["member@acme.test"] = SUBJECT
    assert [s.id for s in await store.list_for_subject(SUBJECT)] == [doc["id"]]
    assert [s.id for s in await store.list_for_email("member@acme.test")] == [doc["id"]]
    assert await store.list_for_email("nobody@acme.test") == []
    assert await store.is_active(doc["id"]) is True
    fake_sessions.ended[doc["id"]] = "logout"
    assert await store.is_active(doc["id"]) is False
    assert fake_sessions.args_of("sessions:listForSubject") == [{"authSubject": SUBJECT}]
    assert fake_sessions.args_of("sessions:listForEmail")[0] == {"email": "member@acme.test"}
    assert fake_sessions.args_of("sessions:isActive")[0] == {"sessionId": doc["id"]}


async def test_begin_refresh_takes_the_lease_for_its_length_and_none_while_another_holds_it(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE)
    leased = await store.begin_refresh(doc["id"], "holder-a", 15.0)
    assert leased is not None and leased.id == doc["id"]
    assert fake_sessions.args_of("sessions:beginRefresh") == [
        {"sessionId": doc["id"], "holder": "holder-a", "leaseMs": 15_000}
    ]
    assert await store.begin_refresh(doc["id"], "holder-b", 15.0) is None


async def test_refreshed_tokens_replace_the_cached_session(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE, tokens="v1.old")
    await store.resolve(HANDLE)
    await store.begin_refresh(doc["id"], "holder-a", 15.0)
    finished = await store.finish_refresh(doc["id"], "holder-a", tokens="v1.new", access_expires_at=123)
    assert finished.tokens == "v1.new" and finished.access_expires_at == 123
    assert fake_sessions.args_of("sessions:finishRefresh") == [
        {"sessionId": doc["id"], "holder": "holder-a", "tokens": "v1.new", "accessExpiresAt": 123}
    ]
    cached = await store.resolve(HANDLE)
    assert cached is not None and cached.tokens == "v1.new"
    assert fake_sessions.paths().count("sessions:resolve") == 1


async def test_a_lease_taken_shows_the_newest_tokens_to_the_cache(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE, tokens="v1.old")
    await store.resolve(HANDLE)
    doc["tokens"] = "v1.refreshed-elsewhere"
    await store.begin_refresh(doc["id"], "holder-a", 15.0)
    cached = await store.resolve(HANDLE)
    assert cached is not None and cached.tokens == "v1.refreshed-elsewhere"


async def test_a_refresh_never_brings_back_a_signed_out_cookie_into_the_cache(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE)
    await store.resolve(HANDLE)
    await store.revoke(HANDLE, "logout")
    assert await store.resolve(HANDLE) is None
    fake_sessions.ended.clear()  # Convex still answers with the document (a lease taken just before)
    await store.begin_refresh(doc["id"], "holder-a", 15.0)
    assert await store.resolve(HANDLE) is None


@pytest.mark.parametrize("code", ["conflict", "not_found"])
async def test_finishing_a_refresh_whose_lease_was_lost_raises_lease_lost(store, fake_sessions, code):
    doc = fake_sessions.add_session(HANDLE)
    fake_sessions.refusals["sessions:finishRefresh"] = error(code)
    with pytest.raises(RefreshLeaseLost, match=f"{code} message"):
        await store.finish_refresh(doc["id"], "holder-a", tokens="v1.new", access_expires_at=1)


async def test_any_other_refusal_of_a_refresh_is_raised_as_is(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE)
    fake_sessions.refusals["sessions:finishRefresh"] = error("forbidden")
    with pytest.raises(ConvexError):
        await store.finish_refresh(doc["id"], "holder-a", tokens="v1.new", access_expires_at=1)
    fake_sessions.refusals["sessions:finishRefresh"] = httpx.Response(
        200, json={"status": "error", "errorMessage": "x", "errorData": "just text", "logLines": []}
    )
    with pytest.raises(ConvexError):
        await store.finish_refresh(doc["id"], "holder-a", tokens="v1.new", access_expires_at=1)


async def test_a_session_read_from_convex_keeps_every_field(store, fake_sessions):
    now = FakeSessions.now()
    doc = fake_sessions.add_session(
        HANDLE,
        createdAt=1.0,
        lastSeenAt=now + 0.0,
        idleExpiresAt=3.0 + 10**13,
        absoluteExpiresAt=4.0 + 10**13,
        accessExpiresAt=5.0,
    )
    session = await store.resolve(HANDLE)
    assert session == Session(
        id=doc["id"],
        auth_subject=SUBJECT,
        issuer=ISSUER,
        provider_sid="idp-sid-1",
        tokens="v1.opaque",
        access_expires_at=5,
        created_at=1,
        last_seen_at=now,
        idle_expires_at=3 + 10**13,
        absolute_expires_at=4 + 10**13,
        user_agent="Firefox",
    )
    times = (
        session.access_expires_at,
        session.created_at,
        session.last_seen_at,
        session.idle_expires_at,
        session.absolute_expires_at,
    )
    assert all(type(t) is int for t in times)


async def test_ending_by_id_a_session_already_signed_out_here_answers_false(store, fake_sessions):
    doc = fake_sessions.add_session(HANDLE)
    await store.resolve(HANDLE)
    await store.revoke(HANDLE, "logout")
    assert await store.revoke_by_id(doc["id"], auth_subject=None, reason="admin") is False
    assert await store.revoke_for_provider(ISSUER, sid="idp-sid-1", sub=None) == 0
