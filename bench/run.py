"""`make bench`: every bench in one run, a table per part and a summary line per target.

Quick by default (a few minutes on 2 cores); `BENCH=full` runs longer and at more
concurrencies. Everything listens on 127.0.0.1 and stops by itself. Ratios are measured
side by side in this one run, because the machine is noisy. Writes the transport chart to
docs/performance-transports.svg and the raw figures to bench/results.json.
"""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from bench import bff, cost_split, observability_cost, official_client, transports
from bench.chart import line_chart
from bench.common import FULL, Figures

ROOT = Path(__file__).resolve().parents[1]


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 86 - len(title)), flush=True)


def print_rows(rows: list[Figures]) -> None:
    for row in rows:
        print(row.row(), flush=True)


def records(rows: list[Figures]) -> list[dict]:
    """Rows as JSON records for bench/results.json (latencies included, for later charts)."""
    return [vars(r) | {"rps": r.rps, "p50": r.pct(0.5), "p99": r.pct(0.99)} for r in rows]


def data_cost() -> str:
    run = subprocess.run(
        ["npx", "vitest", "run", "--config", "bench/convex/vitest.config.ts"],
        check=False,  # a failing run is the answer "GROWS", below
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in run.stdout.splitlines() if "documents read" in line]
    print("\n".join(lines) if lines else run.stdout[-2000:], flush=True)
    return "flat" if run.returncode == 0 else "GROWS"


async def main() -> None:
    results: dict = {"mode": "full" if FULL else "quick", "cpus": os.cpu_count()}

    section("Transports: the gateway over each HTTP client, canned upstream stub (client on core 0)")
    transport_rows = await transports.measure()
    results["transports"] = records(transport_rows)
    series: dict[str, dict[int, float]] = {}
    for row in transport_rows:
        series.setdefault(row.name, {})[row.concurrency] = row.rps
    line_chart(
        ROOT / "docs" / "performance-transports.svg",
        "Gateway throughput by HTTP client (canned upstream, 1 core)",
        series,
    )

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})  # the load generator shares core 1 with the stub
    section("Ceiling: the real BFF routes (uvicorn, 1 worker on core 0) vs the stub and in process")
    ceiling_rows: list[Figures] = []
    found = await bff.ceiling(ceiling_rows)
    print_rows(ceiling_rows)

    section("Servers: list courses at c=32 over the stub (unpinned)")
    server_rows: list[Figures] = []
    await bff.servers(server_rows)
    print_rows(server_rows)

    section("End to end on the embedded backend (a Node process: not a Convex figure)")
    e2e_rows: list[Figures] = []
    await bff.end_to_end(e2e_rows)
    print_rows(e2e_rows)

    section("The official ConvexClient on the request path vs the gateway (embedded backend)")
    official_rows = await official_client.measure()

    section("CPU per request, split by stage (list courses, this process)")
    split = await cost_split.measure()
    cost_split.print_split(split)

    section("Observability: CPU per request with logs + metrics, and with tracing, against both off")
    observability = await observability_cost.measure()

    section("Data cost: documents read by one list page as another client's data grows 100x")
    flatness = data_cost()

    for name, rows in (
        ("ceiling", ceiling_rows),
        ("servers", server_rows),
        ("e2e", e2e_rows),
        ("official", official_rows),
    ):
        results[name] = records(rows)
    results["split"] = split
    results["observability_us"] = observability

    section("Targets")
    route = "list courses"
    bff32 = found[f"BFF -> stub (aiohttp)|{route}|32|rps"]
    gateway32 = {row.name: row.rps for row in transport_rows if row.concurrency == 32}
    targets = [
        (
            "BFF throughput >= 0.5x the in-process ceiling at c=32",
            bff32 / found[f"BFF canned in process|{route}|32|rps"],
            0.5,
            "x",
            ">=",
        ),
        (
            "Gateway throughput >= 6x over httpx's default transport, c=32",
            gateway32["gateway/aiohttp (default)"] / gateway32["gateway/httpx default transport"],
            6.0,
            "x",
            ">=",
        ),
        (
            "BFF throughput >= 6x the same BFF over httpx's default transport, c=32",
            bff32 / found[f"BFF -> stub (httpx)|{route}|32|rps"],
            6.0,
            "x",
            ">=",
        ),
        (
            "Added latency per hop p50 <= 0.6 ms at c=1",
            found[f"BFF -> stub (aiohttp)|{route}|1|p50"] - found["direct_p50_c1"],
            0.6,
            " ms",
            "<=",
        ),
        ("p99 < 40 ms at c=32", found[f"BFF -> stub (aiohttp)|{route}|32|p99"], 40.0, " ms", "<"),
        (
            "<= 350 µs CPU per request on the list route (BFF process, c=32)",
            found[f"BFF -> stub (aiohttp)|{route}|32|cpu"],
            350.0,
            " µs",
            "<=",
        ),
        ("Actor cache hit path makes no Convex call", split["actor: Convex calls on cache hits"], 0.0, " calls", "<="),
    ]
    results["targets"] = []
    for label, value, bound, unit, op in targets:
        passed = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
        results["targets"].append({"target": label, "value": value, "passed": passed})
        print(f"{'PASS' if passed else 'FAIL'}  {label}: {value:.2f}{unit}", flush=True)
    print(
        f"{'PASS' if flatness == 'flat' else 'FAIL'}  "
        f"Documents read per list page stay flat as another client grows 100x: {flatness}"
    )
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
