"""`make run`: the embedded backend (unless CONVEX_URL points elsewhere) and the BFF.

Stops both on Ctrl-C.
"""

import os
import sys
from contextlib import ExitStack

import uvicorn

from app.settings import get_settings
from devtools.embedded import embedded_backend

HOST, PORT, EMBEDDED_PORT = "127.0.0.1", 8000, 3210


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
        print(f"\nBFF on http://{HOST}:{PORT}  (Swagger UI: http://{HOST}:{PORT}/docs)\n", flush=True)
        uvicorn.run("app.main:app_factory", factory=True, host=HOST, port=PORT, log_config=None, server_header=False)


if __name__ == "__main__":
    main()
