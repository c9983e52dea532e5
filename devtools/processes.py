"""A development server in a child process (the embedded backend, the development OpenID
provider), started and stopped the same way: it says it is ready with a line on stdout, stops
itself when this process dies (its stdin closes: --exit-with-parent), and is stopped in order
when the block exits."""

import os
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Started:
    process: subprocess.Popen[str]
    # The server's latest output lines.
    log: deque[str]


@contextmanager
def dev_server(
    name: str,
    args: list[str],
    *,
    ready_line: str,
    env: dict[str, str] | None = None,
    echo: bool = False,
    startup_timeout_s: float = 30.0,
    log_lines: int = 500,
) -> Iterator[Started]:
    """Run `args` until the block exits; yields once a line of its output starts with `ready_line`."""
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        # Never written: when this process dies, however it dies, the pipe closes and the server
        # stops itself (--exit-with-parent).
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it in order.
    )
    ready = threading.Event()
    log: deque[str] = deque(maxlen=log_lines)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if echo:
                print(line, end="", flush=True)
            log.append(line)
            if line.startswith(ready_line):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n" + "".join(list(log)[-30:]))
        yield Started(process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
