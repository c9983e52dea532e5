"""Token refresh: a session whose access token has expired is refreshed at the provider before
the request is served, once however many requests and BFF processes need it at the same moment,
and a refresh the provider refuses ends the session. The development provider issues access
tokens for three seconds here, and rotates refresh tokens (a second use of one revokes the grant,
so a double refresh would show)."""

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.sessions.crypto import Sealer
from app.sessions.store import SessionStore, sha256_hex
from tests.e2e.auth.conftest import CLIENT_SECRET, ENCRYPTION_KEY, Browser, Stack, auth_stack

# Long enough that a round's eight requests finish on a loaded machine before the refreshed token expires.
ACCESS_TOKEN_TTL_S = 3
MEMBER = "member@acme.test"


@pytest.fixture(scope="module")
async def short_lived(e2e_settings) -> AsyncIterator[Stack]:
    async with auth_stack(e2e_settings, access_token_ttl_s=ACCESS_TOKEN_TTL_S) as running:
        yield running


class TokenCalls:
    """Refresh grants sent to the provider's token endpoint by the BFF processes watched."""

    def __init__(self) -> None:
        self.refreshes = 0

    def watch(self, app) -> None:
        async def count(request) -> None:
            if request.url.path.endswith("/token") and b"grant_type=refresh_token" in request.content:
                self.refreshes += 1

        app.state.services.sessions.oidc.oauth.event_hooks["request"].append(count)


async def signed_in(stack: Stack) -> str:
    browser = Browser(stack.http, stack.issuer)
    try:
        return await browser.sign_in(MEMBER)
    finally:
        await browser.aclose()


async def test_concurrent_requests_needing_a_refresh_make_one_call_to_the_token_endpoint(short_lived):
    stack = short_lived
    calls = TokenCalls()
    calls.watch(stack.app)
    other_process = create_app(stack.settings)  # its own caches and locks; the same Convex
    async with LifespanManager(other_process) as other:
        calls.watch(other_process)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=other.app), base_url="http://bff.test"
        ) as second:
            handle = await signed_in(stack)
            for round_number in (1, 2):
                await asyncio.sleep(ACCESS_TOKEN_TTL_S + 0.5)  # the access token has expired
                answers = await asyncio.gather(
                    *(
                        client.get("/v1/auth/session", headers=stack.cookie(handle))
                        for client in (stack.http, second) * 4
                    )
                )
                assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
                # One refresh for eight requests in two processes; the rotated refresh token then
                # serves the next one (a replayed one would have revoked the grant).
                assert calls.refreshes == round_number


async def test_a_refresh_the_provider_refuses_ends_the_session(short_lived):
    stack = short_lived
    handle = await signed_in(stack)
    store: SessionStore = stack.app.state.services.session_store
    session = await store.resolve(handle)
    assert session is not None
    tokens = Sealer(ENCRYPTION_KEY).open(session.tokens, purpose="session-tokens", bound_to=sha256_hex(handle))
    refresh_token = json.loads(tokens)["refresh_token"]
    async with httpx.AsyncClient() as provider:
        revoked = await provider.post(
            f"{stack.issuer}/token/revocation",
            data={"token": refresh_token, "token_type_hint": "refresh_token"},
            auth=("member-platform-bff", CLIENT_SECRET),
        )
    assert revoked.status_code == 200, revoked.text

    await asyncio.sleep(ACCESS_TOKEN_TTL_S + 0.5)
    refused = await stack.http.get("/v1/clients/acme/events", headers=stack.cookie(handle))

    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    assert not await store.is_active(session.id)
