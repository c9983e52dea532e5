"""`make run`: the embedded backend (unless CONVEX_URL points elsewhere), the development
OpenID provider (unless OIDC_ISSUER points elsewhere) and the BFF, each on the port its setting
names (PORT, EMBEDDED_BACKEND_PORT, DEV_OIDC_PORT).

Stops them all on Ctrl-C.
"""

import os
import socket
import sys
from contextlib import ExitStack

from app import serve
from app.settings import Settings, get_settings
from devtools.embedded import embedded_backend
from devtools.oidc import demo_users, dev_oidc_provider


def ports_taken(settings: Settings) -> list[str]:
    """The settings whose port something else already listens on (checked before starting anything,
    so a taken port is one clear message, not a half-started stack)."""
    wanted = {"PORT": (settings.host, settings.port)}
    if "convex_url" not in settings.model_fields_set:
        wanted["EMBEDDED_BACKEND_PORT"] = ("127.0.0.1", settings.embedded_backend_port)
    if not settings.oidc_issuer:
        wanted["DEV_OIDC_PORT"] = ("127.0.0.1", settings.dev_oidc_port)
    taken = []
    for name, address in wanted.items():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            try:
                probe.bind(address)
            except OSError:
                taken.append(f"{name}={address[1]}")
    return taken


def main() -> None:
    settings = get_settings()
    if taken := ports_taken(settings):
        sys.exit(f"Port in use: {', '.join(taken)}. Stop what listens there, or set another port in .env.")
    with ExitStack() as stack:
        if "convex_url" not in settings.model_fields_set:
            admin_key = settings.convex_admin_key.get_secret_value()
            if not admin_key:
                sys.exit("CONVEX_ADMIN_KEY is not set (copy .env.example to .env)")
            port = settings.embedded_backend_port
            print(f"Starting the embedded development backend on 127.0.0.1:{port} ...", flush=True)
            backend = stack.enter_context(embedded_backend(admin_key, port=port, echo=True))
            os.environ["CONVEX_URL"] = backend.url
            get_settings.cache_clear()
        if not settings.oidc_issuer:
            client_secret = settings.oidc_client_secret.get_secret_value()
            if not client_secret or not settings.session_encryption_key.get_secret_value():
                sys.exit(
                    "OIDC_CLIENT_SECRET or SESSION_ENCRYPTION_KEY is not set (copy them from .env.example to .env)"
                )
            print(f"Starting the development OpenID provider on 127.0.0.1:{settings.dev_oidc_port} ...", flush=True)
            issuer = stack.enter_context(
                dev_oidc_provider(
                    settings.public_origin,
                    port=settings.dev_oidc_port,
                    client_id=settings.oidc_client_id,
                    client_secret=client_secret,
                    echo=True,
                )
            )
            os.environ["OIDC_ISSUER"] = issuer
            get_settings.cache_clear()
            print(f"\nSign in at {settings.public_origin}/ as a demo user (no password), at {issuer}:", flush=True)
            for user in demo_users():
                print(f"  {user.email:<28} {user.name}", flush=True)
        settings = get_settings()
        origin = f"http://{settings.host}:{settings.port}"
        print(f"\nBFF on {origin}  (Swagger UI: {origin}/docs)\n", flush=True)
        serve.server(settings).run()


if __name__ == "__main__":
    main()
