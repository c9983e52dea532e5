"""Start and stop the development OpenID provider (devtools/oidc-provider.mjs; docs/identity-providers.md).

Used by `make run` and by the end-to-end tests, which start it on a free port. The demo users
who can sign in at it are those of convex/demoUsers.json (`demo_users`).
"""

import json
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]
READY_LINE = "ready "
DEFAULT_CLIENT_ID = "member-platform-bff"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str

    @property
    def auth_subject(self) -> str:
        """The Convex users.authSubject, and the `sub` of the development provider's tokens."""
        return f"user|{self.email}"


def demo_users() -> list[DemoUser]:
    """The users convex/demo.ts seeds and the development provider lets sign in (convex/demoUsers.json)."""
    demo = json.loads((ROOT / "convex" / "demoUsers.json").read_text())
    users = [DemoUser(admin["email"], admin["name"]) for admin in demo["platformAdmins"]]
    users += [
        DemoUser(f"{person['local']}@{client['slug']}.test", person["name"])
        for client in demo["clients"]
        for person in demo["people"]
    ]
    return users


@contextmanager
def dev_oidc_provider(
    bff_origin: str,
    *,
    port: int | None = None,
    client_secret: str,
    client_id: str = DEFAULT_CLIENT_ID,
    access_token_ttl_s: int | None = None,
    echo: bool = False,
    startup_timeout_s: float = 30.0,
) -> Iterator[str]:
    """Run the development provider for the BFF at `bff_origin` until the block exits; yields its issuer URL."""
    port = port or free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": client_secret}
    if access_token_ttl_s is not None:
        env["OIDC_DEV_ACCESS_TOKEN_TTL_S"] = str(access_token_ttl_s)
    process = subprocess.Popen(
        ["node", "devtools/oidc-provider.mjs", "--issuer", issuer, "--bff-origin", bff_origin, "--exit-with-parent"],
        cwd=ROOT,
        env=env,
        # Never written: when this process dies, however it dies, the pipe closes and the
        # provider stops itself (--exit-with-parent).
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it in order.
    )
    ready = threading.Event()
    log: deque[str] = deque(maxlen=500)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if echo:
                print(line, end="", flush=True)
            log.append(line)
            if line.startswith(READY_LINE):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("development OpenID provider did not start:\n" + "".join(list(log)[-30:]))
        yield issuer
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
