"""Start and stop the development OpenID provider (devtools/oidc-provider.mjs; docs/identity-providers.md).

Used by `make run` and by the end-to-end tests, which start it on a free port. The demo users
who can sign in at it are those of convex/demoUsers.json (`demo_users`).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from devtools.processes import ROOT, dev_server, free_port

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
    env = {"OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": client_secret}
    if access_token_ttl_s is not None:
        env["OIDC_DEV_ACCESS_TOKEN_TTL_S"] = str(access_token_ttl_s)
    args = ["node", "devtools/oidc-provider.mjs", "--issuer", issuer, "--bff-origin", bff_origin, "--exit-with-parent"]
    with dev_server(
        "development OpenID provider",
        args,
        ready_line=READY_LINE,
        env=env,
        echo=echo,
        startup_timeout_s=startup_timeout_s,
    ):
        yield issuer
