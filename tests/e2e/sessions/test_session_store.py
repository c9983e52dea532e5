"""The session store (app/sessions/store.py) against the embedded backend: what a BFF process
sees of sessions another process ends, sign-ins that work once, refresh leases."""

import asyncio
import base64
import secrets
import uuid
from collections.abc import AsyncIterator

import pytest

from app.gateway.client import ConvexGateway
from app.sessions.store import RefreshLeaseLost, Session, SessionStore, sha256_hex
from devtools.embedded import EmbeddedBackend
from tests.e2e.conftest import ADMIN_KEY

ISSUER = "http://127.0.0.1:8001"
CACHE_TTL_S = 0.5


@pytest.fixture(scope="module")
async def gateway(backend: EmbeddedBackend) -> AsyncIterator[ConvexGateway]:
    gateway = ConvexGateway(backend.url, ADMIN_KEY)
    yield gateway
    await gateway.aclose()


def store_of(gateway: ConvexGateway, *, idle_timeout_s: float = 1800, cache_ttl_s: float = CACHE_TTL_S) -> SessionStore:
    """One BFF process's store: its own cache, the same Convex."""
    return SessionStore(gateway, cache_ttl_s=cache_ttl_s, idle_timeout_s=idle_timeout_s, absolute_timeout_s=28800)


def new_subject() -> str:
    # Each test its own user, so tests sharing the backend never see each other's sessions.
    return f"user|{uuid.uuid4().hex}@store.test"


async def signed_in(store: SessionStore, subject: str, *, sid: str | None = "sid-1") -> tuple[str, Session]:
    handle = SessionStore.new_handle()
    session = await store.create(
        handle,
        auth_subject=subject,
        issuer=ISSUER,
        provider_sid=sid,
        tokens="ciphertext-1",
        access_expires_at=0,
        user_agent="pytest",
    )
    return handle, session


async def test_a_handle_is_32_random_bytes_in_base64url():
    handles = {SessionStore.new_handle() for _ in range(100)}
    assert len(handles) == 100
    assert all(len(base64.urlsafe_b64decode(h + "=")) == 32 and "=" not in h for h in handles)


async def test_a_created_session_resolves_and_an_unknown_handle_does_not(gateway):
    store = store_of(gateway)
    handle, created = await signed_in(store, new_subject())
    assert await store_of(gateway).resolve(handle) == created
    assert created.user_agent == "pytest" and created.provider_sid == "sid-1"
    assert created.absolute_expires_at - created.created_at == 28800 * 1000
    assert await store.resolve(SessionStore.new_handle()) is None


async def test_a_revoke_in_another_process_is_seen_after_at_most_the_cache_ttl(gateway):
    here, elsewhere = store_of(gateway), store_of(gateway)
    handle, _ = await signed_in(here, new_subject())
    assert await here.resolve(handle) is not None
    await elsewhere.revoke(handle, "logout")
    assert await elsewhere.resolve(handle) is None
    # Within the TTL this process still answers from its cache: that is the bound, not zero.
    assert await here.resolve(handle) is not None
    await asyncio.sleep(CACHE_TTL_S)
    assert await here.resolve(handle) is None


async def test_a_revoke_in_this_process_is_seen_at_once(gateway):
    store = store_of(gateway, cache_ttl_s=60)
    handle, session = await signed_in(store, new_subject())
    assert await store.resolve(handle) == session
    await store.revoke(handle, "logout")
    assert await store.resolve(handle) is None


async def test_revoking_by_id_takes_the_users_own_session_only_and_is_seen_at_once(gateway):
    store = store_of(gateway, cache_ttl_s=60)
    owner = new_subject()
    handle, session = await signed_in(store, owner)
    assert await store.resolve(handle) == session
    assert await store.revoke_by_id(session.id, auth_subject=new_subject(), reason="user") is False
    assert await store.resolve(handle) == session
    assert await store.revoke_by_id(session.id, auth_subject=owner, reason="user") is True
    assert await store.resolve(handle) is None
    assert await store.revoke_by_id(session.id, auth_subject=None, reason="admin") is False


async def test_back_channel_logout_by_sid_ends_that_provider_session_and_is_seen_at_once(gateway):
    store = store_of(gateway, cache_ttl_s=60)
    subject = new_subject()
    sid = uuid.uuid4().hex
    ended, _ = await signed_in(store, subject, sid=sid)
    kept, _ = await signed_in(store, subject, sid="another-sid")
    assert await store.resolve(ended) is not None
    assert await store.revoke_for_provider(ISSUER, sid=sid, sub=None) == 1
    assert await store.resolve(ended) is None
    assert await store.resolve(kept) is not None
    assert await store.revoke_for_provider(ISSUER, sid=None, sub=subject) == 1
    assert await store.resolve(kept) is None


async def test_a_session_in_use_outlives_its_idle_timeout_and_one_left_alone_does_not(gateway):
    store = store_of(gateway, idle_timeout_s=1.0, cache_ttl_s=0.05)
    used, _ = await signed_in(store, new_subject())
    left, _ = await signed_in(store, new_subject())
    for _ in range(6):
        await asyncio.sleep(0.3)
        assert await store.resolve(used) is not None
    assert await store.resolve(left) is None
    slid = await store.resolve(used)
    assert slid is not None and slid.idle_expires_at > slid.created_at + 1000


async def test_a_users_live_sessions_are_listed_newest_first(gateway):
    store = store_of(gateway)
    subject = new_subject()
    _, first = await signed_in(store, subject)
    second_handle, _ = await signed_in(store, subject)
    _, third = await signed_in(store, subject)
    await store.revoke(second_handle, "logout")
    assert [s.id for s in await store.list_for_subject(subject)] == [third.id, first.id]


async def test_a_platform_admin_finds_a_users_sessions_by_email(gateway):
    store = store_of(gateway)
    _, session = await signed_in(store, "user|sponsor-staff@globex.test")
    assert session.id in [s.id for s in await store.list_for_email("sponsor-staff@globex.test")]
    assert await store.list_for_email(f"{uuid.uuid4().hex}@nowhere.test") == []


async def test_is_active_asks_convex_every_time(gateway):
    store = store_of(gateway, cache_ttl_s=60)
    handle, session = await signed_in(store, new_subject())
    assert await store.is_active(session.id) is True
    await store_of(gateway).revoke(handle, "logout")
    assert await store.is_active(session.id) is False


async def test_a_login_state_is_consumed_once_only(gateway):
    store = store_of(gateway)
    state = secrets.token_urlsafe(16)
    binding = sha256_hex("login-cookie")
    await store.start_login(state, binding_hash=binding, nonce="n-1", verifier="sealed", return_to="/events", ttl_s=600)
    pending = await store.consume_login(state)
    assert pending is not None
    assert (pending.binding_hash, pending.nonce, pending.verifier, pending.return_to) == (
        binding,
        "n-1",
        "sealed",
        "/events",
    )
    assert await store_of(gateway).consume_login(state) is None


async def test_an_expired_login_state_gets_none(gateway):
    store = store_of(gateway)
    state = secrets.token_urlsafe(16)
    await store.start_login(state, binding_hash=sha256_hex("c"), nonce="n", verifier="v", return_to="/", ttl_s=0.05)
    await asyncio.sleep(0.1)
    assert await store.consume_login(state) is None


async def test_a_refresh_lease_is_exclusive_until_it_runs_out(gateway):
    here, elsewhere = store_of(gateway), store_of(gateway)
    _, session = await signed_in(here, new_subject())
    assert await here.begin_refresh(session.id, "request-1", 0.3) is not None
    assert await elsewhere.begin_refresh(session.id, "request-2", 0.3) is None
    await asyncio.sleep(0.35)
    assert await elsewhere.begin_refresh(session.id, "request-2", 0.3) is not None


async def test_only_the_lease_holder_finishes_a_refresh_and_this_process_sees_the_new_tokens(gateway):
    store = store_of(gateway, cache_ttl_s=60)
    handle, session = await signed_in(store, new_subject())
    assert await store.resolve(handle) == session
    await store.begin_refresh(session.id, "request-1", 30)
    with pytest.raises(RefreshLeaseLost):
        await store.finish_refresh(session.id, "request-2", tokens="stolen", access_expires_at=1)
    refreshed = await store.finish_refresh(session.id, "request-1", tokens="ciphertext-2", access_expires_at=2)
    assert refreshed.tokens == "ciphertext-2" and refreshed.access_expires_at == 2
    resolved = await store.resolve(handle)
    assert resolved is not None and resolved.tokens == "ciphertext-2"
