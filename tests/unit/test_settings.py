"""Settings: `.env.example` documents every one, and it loads as it stands."""

from pathlib import Path

from app.settings import Settings

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
