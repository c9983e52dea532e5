"""The provider's discovery document as the BFF reads it (OpenID Connect Discovery 1.0)."""

import pytest

from app.sessions.oidc import ProviderMetadata, ProviderUnavailable

ISSUER = "https://idp.example.org"
DOCUMENT = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "jwks_uri": f"{ISSUER}/jwks",
    "end_session_endpoint": f"{ISSUER}/logout",
    "id_token_signing_alg_values_supported": ["HS256", "none", "ES256", "RS256"],
}


def test_the_endpoints_and_only_asymmetric_algorithms_are_taken():
    metadata = ProviderMetadata.from_discovery(DOCUMENT, ISSUER)
    assert metadata.issuer == ISSUER and metadata.authorization_endpoint == f"{ISSUER}/authorize"
    assert metadata.jwks_uri == f"{ISSUER}/jwks"
    assert metadata.token_endpoint == f"{ISSUER}/token" and metadata.end_session_endpoint == f"{ISSUER}/logout"
    assert metadata.algorithms == ("RS256", "ES256")  # never HS256 (the client secret) nor none


def test_a_document_naming_another_issuer_is_refused():
    # Discovery §4.3: exactly the issuer asked for, so a trailing slash counts.
    for other in ("https://evil.example.org", ISSUER + "/"):
        with pytest.raises(ProviderUnavailable, match="OIDC_ISSUER") as refused:
            ProviderMetadata.from_discovery({**DOCUMENT, "issuer": other}, ISSUER)
        assert repr(other) in str(refused.value)  # the operator sees what the provider said


def test_a_document_without_a_required_endpoint_is_refused():
    without_jwks = {k: v for k, v in DOCUMENT.items() if k != "jwks_uri"}
    with pytest.raises(ProviderUnavailable, match="jwks_uri"):
        ProviderMetadata.from_discovery(without_jwks, ISSUER)


def test_a_provider_without_end_session_or_algorithms_gets_the_defaults():
    bare = {
        k: v for k, v in DOCUMENT.items() if k not in ("end_session_endpoint", "id_token_signing_alg_values_supported")
    }
    metadata = ProviderMetadata.from_discovery(bare, ISSUER)
    assert metadata.end_session_endpoint is None and metadata.algorithms == ("RS256",)


def test_a_provider_offering_only_symmetric_algorithms_is_still_checked_with_rs256_alone():
    metadata = ProviderMetadata.from_discovery({**DOCUMENT, "id_token_signing_alg_values_supported": ["HS256"]}, ISSUER)
    assert metadata.algorithms == ("RS256",)
