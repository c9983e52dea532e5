"""`make run` takes every port from settings and checks them all before starting anything
(devtools/run.py): a taken port is one message naming its setting, not a half-started stack."""

import socket

from app.settings import Settings
from devtools.run import ports_taken


def listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_taken_port_is_named_by_its_setting():
    with listening() as bff, listening() as backend, listening() as provider:
        settings = Settings(
            _env_file=None,
            port=bff.getsockname()[1],
            embedded_backend_port=backend.getsockname()[1],
            dev_oidc_port=provider.getsockname()[1],
        )
        assert ports_taken(settings) == [
            f"PORT={settings.port}",
            f"EMBEDDED_BACKEND_PORT={settings.embedded_backend_port}",
            f"DEV_OIDC_PORT={settings.dev_oidc_port}",
        ]


def test_free_ports_pass_and_servers_make_run_does_not_start_are_not_checked():
    with listening() as backend, listening() as provider:
        free = listening()
        port = free.getsockname()[1]
        free.close()
        settings = Settings(
            _env_file=None,
            port=port,
            convex_url="https://example.convex.cloud",  # no embedded backend to start
            oidc_issuer="https://id.example.org/",  # no development provider to start
            session_encryption_key="ZGV2LW9ubHktc2Vzc2lvbi1rZXktMDEyMzQ1Njc4OSE=",
            embedded_backend_port=backend.getsockname()[1],
            dev_oidc_port=provider.getsockname()[1],
        )
        assert ports_taken(settings) == []


def test_the_public_origin_follows_the_port_unless_set():
    assert Settings(_env_file=None, port=8100).public_origin == "http://127.0.0.1:8100"
    assert (
        Settings(_env_file=None, port=8100, public_origin="https://m.example.org").public_origin
        == "https://m.example.org"
    )
