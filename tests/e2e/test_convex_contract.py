"""The official `convex` Python client, unchanged, against the embedded backend."""

import pytest
from convex import ConvexError
from convex.http_client import ConvexHttpClient

from devtools.embedded import EmbeddedBackend

from .conftest import ADMIN_KEY


@pytest.fixture
def admin_client(backend: EmbeddedBackend) -> ConvexHttpClient:
    client = ConvexHttpClient(backend.url)
    client.set_admin_auth(ADMIN_KEY)
    return client


def acme_admin(client: ConvexHttpClient) -> dict:
    actor = client.query("identity:resolveActor", {"clientSlug": "acme", "authSubject": "user|admin@acme.test"})
    assert actor["role"] == "client_admin" and actor["clientSlug"] == "acme"
    return {"clientId": actor["clientId"], "role": actor["role"], "userId": actor["userId"]}


def test_query_round_trips(admin_client):
    actor = acme_admin(admin_client)
    page = admin_client.query("categories:list", {"actor": actor, "page": {"cursor": None, "numItems": 5}})
    assert isinstance(page["page"], list) and isinstance(page["isDone"], bool)


def test_mutation_round_trips(admin_client):
    actor = acme_admin(admin_client)
    created = admin_client.mutation(
        "categories:create", {"actor": actor, "name": "Contract", "slug": "contract-test"}
    )
    assert created["slug"] == "contract-test"
    read = admin_client.query("categories:get", {"actor": actor, "categoryId": created["id"]})
    assert read == created


def test_convex_error_arrives_with_its_data(admin_client):
    actor = acme_admin(admin_client)
    with pytest.raises(ConvexError) as caught:
        admin_client.query("categories:get", {"actor": actor, "categoryId": "no-such-id"})
    assert caught.value.data["code"] == "not_found"
    assert caught.value.data["message"] == "category not found"


def test_internal_function_is_refused_without_the_admin_key(backend):
    anonymous = ConvexHttpClient(backend.url)
    with pytest.raises(Exception) as caught:
        anonymous.query("identity:resolveActor", {"clientSlug": "acme"})
    assert not isinstance(caught.value, ConvexError)


def test_internal_function_is_refused_with_a_wrong_admin_key(backend):
    wrong = ConvexHttpClient(backend.url)
    wrong.set_admin_auth("not-the-key")
    with pytest.raises(Exception) as caught:
        wrong.query("identity:resolveActor", {"clientSlug": "acme"})
    assert not isinstance(caught.value, ConvexError)
