"""The product as `make run` starts it, for benches: the embedded backend with demo data and
the BFF under uvicorn in its own process, both on 127.0.0.1 free ports."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import jwt

from devtools.embedded import embedded_backend, free_port

ADMIN_KEY = "bench-admin-key"
JWT_SECRET = "bench-hs256-secret-bench-hs256-secret-bench-hs256-secret-012345"
ISSUER, AUDIENCE = "http://127.0.0.1/bench-issuer", "member-platform"


@dataclass
class Stack:
    bff_url: str
    convex_url: str
    bff_pid: int

    def token(self, email: str) -> dict[str, str]:
        now = int(time.time())
        claims = {"sub": f"user|{email}", "email": email, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600}
        return {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}

    def rss_mb(self) -> float:
        with open(f"/proc/{self.bff_pid}/status") as status:
            line = next(line for line in status if line.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024

    def cpu_s(self) -> float:
        """User + system CPU seconds the BFF process has used."""
        fields = open(f"/proc/{self.bff_pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_stack(server: str = "uvicorn", **settings: str) -> Iterator[Stack]:
    with embedded_backend(ADMIN_KEY, seed=True) as backend:
        port = free_port()
        env = {
            **os.environ,
            "CONVEX_URL": backend.url,
            "CONVEX_ADMIN_KEY": ADMIN_KEY,
            "JWT_HS256_SECRET": JWT_SECRET,
            "JWT_ISSUER": ISSUER,
            "JWT_AUDIENCE": AUDIENCE,
            "JWT_ALGORITHMS": '["HS256"]',
            "LOG_LEVEL": "WARNING",
            **{key.upper(): value for key, value in settings.items()},
        }
        if server == "granian":
            command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                       "--port", str(port), "--log-level", "warning", "app.main:app_factory"]
        else:
            command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:app_factory", "--host", "127.0.0.1",
                       "--port", str(port), "--log-level", "warning", "--no-access-log"]
        process = subprocess.Popen(command, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the BFF did not become ready")
                time.sleep(0.1)
            yield Stack(url, backend.url, process.pid)
        finally:
            process.terminate()
            process.wait(10)
