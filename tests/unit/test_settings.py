"""Settings: `.env.example` documents every one and loads as it stands; production refuses
development values; secrets may come from files."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.unit.conftest import PRODUCTION

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_env_example_names_every_setting():
    text = ENV_EXAMPLE.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"{name.upper()}=" not in text]
    assert missing == []


def test_env_example_loads_as_it_stands():
    settings = Settings(_env_file=ENV_EXAMPLE)
    assert settings.rate_limit_per_principal == 600 and settings.cors_origins == [
        "http://localhost:5173",
        "http://127.0.0.1:5173",
    ]


# --- production refuses development settings -----------------------------------------------

# Sign-in at the BFF switched on, with production values.
SIGN_IN = {
    "oidc_issuer": "https://idp.example.org/",
    "oidc_client_secret": "a-production-client-secret",
    "public_origin": "https://members.example.org",
    "session_encryption_key": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy4uLi4=",
}


def test_a_production_configuration_without_development_values_starts():
    settings = Settings(_env_file=None, **PRODUCTION)  # type: ignore[arg-type]
    assert settings.production and settings.api_docs_exposure == "off" and not settings.persist_docs_authorization


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"convex_admin_key": "dev-admin-key-embedded-backend-only"}, "CONVEX_ADMIN_KEY"),
        ({"convex_admin_key": ""}, "CONVEX_ADMIN_KEY"),
        ({"jwt_hs256_secret": "dev-only-hs256-secret-change-me-in-production-0123456789"}, "JWT_HS256_SECRET"),
        ({"jwt_hs256_secret": "short-secret-31-bytes-0123456789"[:31]}, "JWT_HS256_SECRET"),
        ({"jwt_issuer": "http://auth.example.org/"}, "JWT_ISSUER"),
        ({"jwt_issuer": "https://localhost:8443/"}, "JWT_ISSUER"),
        ({"cors_origins": ["http://app.example.org"]}, "CORS_ORIGINS"),
        ({"cors_origins": ["https://127.0.0.1:5173"]}, "CORS_ORIGINS"),
        ({"jwt_jwks_url": "http://auth.example.org/jwks.json"}, "JWT_JWKS_URL"),
        ({"oidc_client_secret": "dev-only-oidc-client-secret-change-me-in-production"}, "OIDC_CLIENT_SECRET"),
        ({"session_encryption_key": "ZGV2LW9ubHktc2Vzc2lvbi1rZXktMDEyMzQ1Njc4OSE="}, "SESSION_ENCRYPTION_KEY"),
        ({"webhook_encryption_key": "ZGV2LW9ubHktd2ViaG9vay1rZXktMDEyMzQ1Njc4OSE="}, "WEBHOOK_ENCRYPTION_KEY"),
        ({"webhook_encryption_key": ""}, "WEBHOOK_ENCRYPTION_KEY"),
        ({"webhook_allow_local_http": True}, "WEBHOOK_ALLOW_LOCAL_HTTP"),
        ({**SIGN_IN, "oidc_issuer": "http://idp.example.org/"}, "OIDC_ISSUER"),
        ({**SIGN_IN, "oidc_issuer": "https://127.0.0.1:8001"}, "OIDC_ISSUER"),
        ({**SIGN_IN, "public_origin": "http://members.example.org"}, "PUBLIC_ORIGIN"),
        ({**SIGN_IN, "public_origin": "https://localhost:8443"}, "PUBLIC_ORIGIN"),
    ],
)
def test_production_refuses_a_development_value_naming_the_setting(change, named):
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **{**PRODUCTION, **change})  # type: ignore[arg-type]
    assert named in str(refused.value)


def test_production_refuses_to_run_without_a_convex_url():
    without_url = {k: v for k, v in PRODUCTION.items() if k != "convex_url"}
    with pytest.raises(ValidationError, match="CONVEX_URL is not set"):
        Settings(_env_file=None, **without_url)  # type: ignore[arg-type]


def test_production_refuses_the_env_example_as_it_stands_naming_every_problem():
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=ENV_EXAMPLE, environment="production")  # type: ignore[arg-type]
    for name in (
        "CONVEX_URL",
        "CONVEX_ADMIN_KEY",
        "JWT_HS256_SECRET",
        "JWT_ISSUER",
        "CORS_ORIGINS",
        "OIDC_CLIENT_SECRET",
        "SESSION_ENCRYPTION_KEY",
        "WEBHOOK_ENCRYPTION_KEY",
        "WEBHOOK_ALLOW_LOCAL_HTTP",
    ):
        assert name in str(refused.value)


def test_development_exposes_the_docs_and_keeps_swagger_authorisation():
    settings = Settings(_env_file=None)
    assert settings.api_docs_exposure == "public" and settings.persist_docs_authorization


def test_a_secret_can_come_from_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVEX_ADMIN_KEY", raising=False)
    (tmp_path / "convex_admin_key").write_text("from-a-mounted-secret")
    settings = Settings(_env_file=None, _secrets_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.convex_admin_key.get_secret_value() == "from-a-mounted-secret"


def test_the_environment_wins_over_a_secret_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVEX_ADMIN_KEY", "from-the-environment")
    (tmp_path / "convex_admin_key").write_text("from-a-mounted-secret")
    settings = Settings(_env_file=None, _secrets_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.convex_admin_key.get_secret_value() == "from-the-environment"


# --- sign-in at the BFF --------------------------------------------------------------------------


def test_production_with_sign_in_and_production_values_starts():
    settings = Settings(_env_file=None, **PRODUCTION, **SIGN_IN)  # type: ignore[arg-type]
    assert settings.sign_in_enabled and settings.public_origin == "https://members.example.org"


def test_sign_in_needs_its_encryption_key():
    with pytest.raises(ValidationError, match="SESSION_ENCRYPTION_KEY is not"):
        Settings(_env_file=None, oidc_issuer="http://127.0.0.1:8001")  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["not base64!", "c2hvcnQ=", "QUFB" * 20])
@pytest.mark.parametrize("setting", ["session_encryption_key", "webhook_encryption_key"])
def test_an_encryption_key_that_is_not_32_bytes_of_base64_is_refused(key, setting):
    with pytest.raises(ValidationError, match=f"{setting.upper()} must be base64 of 32"):
        Settings(_env_file=None, **{setting: key})  # type: ignore[arg-type]


@pytest.mark.parametrize("origin", ["members.example.org", "https://members.example.org/app", "ftp://x.example"])
def test_public_origin_must_be_an_origin(origin):
    with pytest.raises(ValidationError, match="PUBLIC_ORIGIN"):
        Settings(_env_file=None, public_origin=origin)  # type: ignore[arg-type]


def test_public_origin_is_kept_as_browsers_send_it():
    assert Settings(_env_file=None, public_origin="HTTPS://Members.Example.org/").public_origin == (  # type: ignore[arg-type]
        "https://members.example.org"
    )
