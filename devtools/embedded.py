"""Start and stop the embedded development backend (devbackend/; docs/architecture.md, decision 7).

Used by `make run` and by the end-to-end tests, which start it on a free port.
"""

import subprocess
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devtools.processes import ROOT, dev_server, free_port

READY_LINE = "devbackend ready on "


@dataclass
class EmbeddedBackend:
    url: str
    admin_key: str
    process: subprocess.Popen[str]
    # The backend's latest output lines (one per function run, with its request id).
    log: deque[str] = field(default_factory=lambda: deque(maxlen=5000))


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
    with dev_server(
        "embedded backend",
        args,
        ready_line=READY_LINE,
        env={"CONVEX_ADMIN_KEY": admin_key},
        echo=echo,
        startup_timeout_s=startup_timeout_s,
        log_lines=5000,
    ) as started:
        yield EmbeddedBackend(f"http://127.0.0.1:{port}", admin_key, started.process, started.log)
