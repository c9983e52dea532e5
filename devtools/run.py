"""`make run`: the embedded backend (unless CONVEX_URL points elsewhere), the development
OpenID provider (unless OIDC_ISSUER points elsewhere) and the BFF.

Stops them all on Ctrl-C.
"""

import os
import sys
from contextlib import ExitStack

import uvicorn

from app.settings import get_settings
from devtools.embedded import embedded_backend
from devtools.oidc import demo_users, dev_oidc_provider

HOST, PORT, EMBEDDED_PORT, OIDC_PORT = "127.0.0.1", 8000, 3210, 8001


def main() -> None:
    settings = get_settings()
    with ExitStack() as stack:
        if "convex_url" not in settings.model_fields_set:
            admin_key = settings.convex_admin_key.get_secret_value()
            if not admin_key:
                sys.exit("CONVEX_ADMIN_KEY is not set (copy .env.example to .env)")
            print(f"Starting the embedded development backend on 127.0.0.1:{EMBEDDED_PORT} ...", flush=True)
            backend = stack.enter_context(embedded_backend(admin_key, port=EMBEDDED_PORT, echo=True))
            os.environ["CONVEX_URL"] = backend.url
            get_settings.cache_clear()
        if not settings.oidc_issuer:
            client_secret = settings.oidc_client_secret.get_secret_value()
            if not client_secret or not settings.session_encryption_key.get_secret_value():
                sys.exit(
                    "OIDC_CLIENT_SECRET or SESSION_ENCRYPTION_KEY is not set (copy them from .env.example to .env)"
                )
            print(f"Starting the development OpenID provider on 127.0.0.1:{OIDC_PORT} ...", flush=True)
            issuer = stack.enter_context(
                dev_oidc_provider(
                    settings.public_origin,
                    port=OIDC_PORT,
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
        print(f"\nBFF on http://{HOST}:{PORT}  (Swagger UI: http://{HOST}:{PORT}/docs)\n", flush=True)
        uvicorn.run("app.main:app_factory", factory=True, host=HOST, port=PORT, log_config=None, server_header=False)


if __name__ == "__main__":
    main()
