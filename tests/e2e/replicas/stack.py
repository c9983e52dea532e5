"""Several BFF processes (`python -m app.serve`, as deployed) behind HAProxy (Debian's package),
all on 127.0.0.1, over one embedded backend: what tests/e2e/replicas drives."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from devtools.embedded import free_port
from tests.e2e.conftest import ADMIN_KEY, AUDIENCE, ISSUER, JWT_SECRET

HAPROXY = shutil.which("haproxy") or next(
    (path for path in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(path, os.X_OK)), None
)
needs_haproxy = pytest.mark.skipif(
    HAPROXY is None, reason="HAProxy is not installed (apt-get install haproxy; .ci/run installs it)"
)

# HAProxy checks /ready this often and takes a replica out after FALL failed checks: a draining
# replica leaves within CHECK_INTERVAL_S * FALL, well inside its drain.
CHECK_INTERVAL_S = 0.5
FALL = 2
DRAIN_S = 3.0


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: deque[str] = field(default_factory=lambda: deque(maxlen=300))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def send(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n" + "".join(self.log))
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready in {timeout_s} s:\n" + "".join(self.log))


def replica_env(backend_url: str, port: int, **settings: str) -> dict[str, str]:
    """The environment of one BFF process: the e2e suite's Convex and JWT settings, and `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMETHEUS_", "OTEL_"))}
    env.update(
        CONVEX_URL=backend_url,
        CONVEX_ADMIN_KEY=ADMIN_KEY,
        JWT_HS256_SECRET=JWT_SECRET,
        JWT_ISSUER=ISSUER,
        JWT_AUDIENCE=AUDIENCE,
        HOST="127.0.0.1",
        PORT=str(port),
        SHUTDOWN_DRAIN_S=str(DRAIN_S),
        SHUTDOWN_TIMEOUT_S="10",
        READINESS_PROBE_INTERVAL_S="1",
        LOG_LEVEL="WARNING",
        LOG_FORMAT="json",
        WEBHOOK_WORKER_ENABLED="false",
        ENVIRONMENT="test",
    )
    env.update(settings)
    return env


def start_replica(name: str, port: int, env: dict[str, str], workdir: Path) -> Replica:
    """`python -m app.serve` in `workdir` (no .env there: the environment is the whole configuration)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    replica = Replica(name, port, process)
    _keep_output(process, replica.log)
    return replica


def _keep_output(process: subprocess.Popen[bytes], log: deque[str]) -> None:
    """Reads the process's output into `log` (its latest lines) until it ends."""

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line.decode(errors="replace"))

    threading.Thread(target=pump, daemon=True).start()


def stop(replica: Replica) -> None:
    if replica.process.poll() is None:
        replica.process.kill()
    replica.process.wait(10)


HAPROXY_CONFIG = """
global
    maxconn 2000
    stats socket {socket} mode 600 level user

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    # A request is sent again, to another replica (redispatch), when its connection failed, or closed
    # with no answer (a replica killed, or an idle connection it had closed being reused), as
    # docs/deploy.md recommends: but a change only when it carries an Idempotency-Key (its second run
    # answers the first one's result; the rules in the backend), and never a PATCH.
    option redispatch
    retries 3
    retry-on conn-failure empty-response junk-response

frontend api
    bind 127.0.0.1:{port}
    default_backend bff

backend bff
    balance roundrobin
    http-request disable-l7-retry if {{ method POST }} !{{ req.hdr(idempotency-key) -m found }}
    http-request disable-l7-retry if {{ method PATCH }}
    option httpchk GET /ready
    http-check expect status 200
    default-server inter {inter_ms} fall {fall} rise 2 check
{servers}
"""


@dataclass
class Balancer:
    url: str
    process: subprocess.Popen[bytes]
    stats_socket: Path
    log: deque[str] = field(default_factory=lambda: deque(maxlen=2000))

    def backend_stats(self) -> dict[str, str]:
        """The `bff` backend's row of HAProxy's statistics (`show stat`): `wretr` requests it sent
        again, `wredis` sent to another server, `econ` connections that failed, `eresp` answers lost."""
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(self.stats_socket))
            client.sendall(b"show stat\n")
            raw = b"".join(iter(lambda: client.recv(65536), b"")).decode()
        header, *rows = [line for line in raw.splitlines() if line]
        names = header.lstrip("# ").split(",")
        table = [dict(zip(names, row.split(","), strict=False)) for row in rows]
        return next(row for row in table if row["pxname"] == "bff" and row["svname"] == "BACKEND")


@contextmanager
def haproxy(slots: dict[str, int], workdir: Path) -> Iterator[Balancer]:
    """HAProxy on a free port, balancing round-robin over `slots` (name -> port) and checking /ready;
    its log is what it writes to stderr in the foreground: a server's state changes."""
    assert HAPROXY is not None
    port = free_port()
    servers = "\n".join(f"    server {name} 127.0.0.1:{p}" for name, p in slots.items())
    config = workdir / "haproxy.cfg"
    config.write_text(
        HAPROXY_CONFIG.format(
            port=port,
            socket=workdir / "haproxy.sock",
            inter_ms=int(CHECK_INTERVAL_S * 1000),
            fall=FALL,
            servers=servers,
        )
    )
    process = subprocess.Popen(
        [HAPROXY, "-db", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=workdir
    )
    balancer = Balancer(f"http://127.0.0.1:{port}", process, workdir / "haproxy.sock")
    _keep_output(process, balancer.log)
    try:
        _wait_listening(port, process, balancer.log)
        yield balancer
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: deque[str], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    time.sleep(0.2)  # the rest of its output
    raise RuntimeError(f"HAProxy is not listening on {port}:\n" + "".join(log))


@contextmanager
def replicas(backend_url: str, count: int, workdir: Path, **settings: str) -> Iterator[dict[str, Replica]]:
    """`count` BFF processes started together; yields them by name once all are ready; kills what is left."""
    with ExitStack() as stack:
        started = {}
        for i in range(1, count + 1):
            port = free_port()
            replica = start_replica(f"bff{i}", port, replica_env(backend_url, port, **settings), workdir)
            stack.callback(stop, replica)
            started[replica.name] = replica
        for replica in started.values():
            replica.wait_ready()
        yield started
