"""Failover: three BFF processes behind HAProxy under c=32, a rolling restart, then a crash.

The scenario of tests/e2e/replicas/test_failover.py (tests/e2e/replicas/failover.py), on the
embedded backend, printed as figures: requests and failures per phase, writes acknowledged,
stored and stored twice, the drain time, how soon the stopped replica's /ready said 503, live
stream reconnections, and /ready's latency on an untouched replica under the load.

`python -m bench.failover` (about a minute; needs Debian's haproxy; traffic only to 127.0.0.1).
"""

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from devtools.embedded import embedded_backend
from tests.e2e.conftest import ADMIN_KEY
from tests.e2e.replicas.failover import run_failover
from tests.e2e.replicas.stack import HAPROXY


async def main() -> None:
    if HAPROXY is None:
        sys.exit("HAProxy is not installed (apt-get install haproxy)")
    with embedded_backend(ADMIN_KEY, seed=True) as backend, tempfile.TemporaryDirectory() as workdir:
        report = await run_failover(backend.url, Path(workdir))
    figures = report.figures()
    print(
        f"{'phase':<16} {'requests':>9} {'1st attempts failed':>20} {'attempts failed':>16} {'failed in the end':>18}"
    )
    for phase, row in figures["phases"].items():
        print(
            f"{phase:<16} {row['requests']:>9} {row['first_attempts_failed']:>20} {row['attempts_failed']:>16}"
            f" {row['requests_failed_after_retries']:>18}"
        )
    print("writes:", json.dumps(figures["writes"]))
    print(f"drain (SIGTERM to exit): {figures['drain_s']} s; /ready 503 after {figures['ready_503_after_s']} s")
    print("live streams:", json.dumps(figures["streams"]))
    print("/ready on an untouched replica under the load (ms):", json.dumps(figures["ready_ms_under_load"]))
    print("HAProxy:", json.dumps(figures["balancer"]))
    print(
        "HAProxy took out:",
        ", ".join(line.split("Server ")[1].split(" is DOWN")[0] for line in figures["servers_marked_down"]),
    )


if __name__ == "__main__":
    asyncio.run(main())
