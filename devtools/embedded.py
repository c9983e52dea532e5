"""Start and stop the embedded development backend (devbackend/; docs/architecture.md, decision 7).

Used by `make run` and by the end-to-end tests, which start it on a free port.
"""

import os
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY_LINE = "devbackend ready on "


@dataclass
class EmbeddedBackend:
    url: str
    admin_key: str
    process: subprocess.Popen[str]
    # The backend's latest output lines (one per function run, with its request id).
    log: deque[str] = field(default_factory=lambda: deque(maxlen=5000))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tsx() -> str:
    return str(ROOT / "node_modules" / ".bin" / "tsx")


@contextmanager
def embedded_backend(
    admin_key: str,
    *,
    port: int | None = None,
    seed: bool = True,
    convex_dir: Path | None = None,
    echo: bool = False,
    startup_timeout_s: float = 90.0,
) -> Iterator[EmbeddedBackend]:
    """Run the embedded backend until the block exits; yields once it is ready."""
    port = port or free_port()
    args = [_tsx(), "devbackend/src/main.ts", "--port", str(port), "--exit-with-parent"]
    if not seed:
        args.append("--no-seed")
    if convex_dir is not None:
        args += ["--convex-dir", str(convex_dir)]
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, "CONVEX_ADMIN_KEY": admin_key},
        # Never written: when this process dies, however it dies, the pipe closes and the
        # backend stops itself (--exit-with-parent).
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it in order.
    )
    ready = threading.Event()
    log: deque[str] = deque(maxlen=5000)

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
                raise RuntimeError("embedded backend did not start:\n" + "".join(list(log)[-30:]))
        yield EmbeddedBackend(f"http://127.0.0.1:{port}", admin_key, process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
