"""`make bench`: every bench in one run, a table per part and a summary line per target.

Quick by default (about 7 minutes on 2 cores, a minute of it the soak); `BENCH=full` runs
longer and at more concurrencies. Everything listens on 127.0.0.1 and stops by itself. The
targets' ratios come from one phase that runs the floor, this BFF and the plain FastAPI proxy
side by side in interleaved rounds and keeps each one's best (`bff.ratios`): the machine is noisy. Every BFF process
runs with its JSON request log at INFO and its metrics on, tracing off (bench/stack.py).
Writes the transport chart to docs/performance-transports.svg and the raw figures to
bench/results.json.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import bff, cost_split, observability_cost, official_client, soak, transports
from bench.chart import line_chart
from bench.common import FULL, Figures
from bench.stack import OBSERVABILITY, OBSERVABILITY_NOTE

ROOT = Path(__file__).resolve().parents[1]


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 86 - len(title)), flush=True)


def print_rows(rows: list[Figures]) -> None:
    for row in rows:
        print(row.row(), flush=True)


def records(rows: list[Figures]) -> list[dict]:
    """Rows as JSON records for bench/results.json (latencies included, for later charts)."""
    return [vars(r) | {"rps": r.rps, "p50": r.pct(0.5), "p99": r.pct(0.99)} for r in rows]


# The peers table: label -> the row's name in the peer's and the ceiling's runs (list route).
PEERS = {
    "floor (bare ASGI + aiohttp)": bff.FLOOR,
    "plain FastAPI proxy (httpx)": bff.PEER,
    "this BFF (aiohttp)": "BFF -> stub (aiohttp): list courses",
    "in-process ceiling": "BFF canned in process: list courses",
}


def peers_table(rows: list[Figures]) -> list[dict[str, Any]]:
    """The peer, this BFF and the in-process ceiling on the list route, and the ratios."""
    by_key = {(row.name, row.concurrency): row for row in rows}
    ratios = []
    for concurrency in bff.CONCURRENCY:
        found = {label: by_key[(name, concurrency)] for label, name in PEERS.items()}
        for label, row in found.items():
            print(
                f"{label:<30} c={concurrency:<3} {row.rps:>7.0f} rps  p50 {row.pct(0.5):>7.2f} ms  "
                f"p99 {row.pct(0.99):>7.2f} ms  {row.cpu_us or 0:>6.0f} µs CPU/req",
                flush=True,
            )
        floor, peer, ours, ceiling = (found[label] for label in PEERS)  # in PEERS' order
        ratio = {
            "concurrency": concurrency,
            "bff_over_peer_rps": ours.rps / peer.rps,
            "bff_over_peer_cpu": (ours.cpu_us or 0) / (peer.cpu_us or 1),
            "bff_over_ceiling_rps": ours.rps / ceiling.rps,
            "floor_cpu_us": floor.cpu_us or 0,
        }
        ratios.append(ratio)
        print(
            f"  c={concurrency}: BFF / peer {ratio['bff_over_peer_rps']:.2f}x rps "
            f"({ratio['bff_over_peer_cpu']:.2f}x the CPU per request); "
            f"BFF / ceiling {ratio['bff_over_ceiling_rps']:.2f}x rps",
            flush=True,
        )
    return ratios


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


Target = tuple[str, float, float, str, str]  # label, measured, bound, unit, comparison


async def gateway_transports() -> list[Figures]:
    """The transports' rows, and their chart in docs/."""
    rows = await transports.measure()
    series: dict[str, dict[int, float]] = {}
    for row in rows:
        series.setdefault(row.name, {})[row.concurrency] = row.rps
    line_chart(
        ROOT / "docs" / "performance-transports.svg",
        "Gateway throughput by HTTP client (canned upstream, 1 core)",
        series,
    )
    return rows


async def end_to_end(rows: list[Figures]) -> dict[str, Any]:
    """The BFF and the Convex function it calls, directly, on the embedded backend; printed."""
    e2e = await bff.end_to_end(rows)
    print_rows(rows)
    print(
        f"The BFF's Convex calls per list request: {', '.join(e2e['calls_cold'])} (actor cache empty), "
        f"then {', '.join(e2e['calls_warm'])}",
        flush=True,
    )
    e2e["bff_over_direct_c32"] = e2e["bff|32|rps"] / e2e["direct|32|rps"]
    print(
        f"BFF / direct at c=32: {e2e['bff_over_direct_c32']:.2f}x (direct: the mean of its runs before and after)",
        flush=True,
    )
    return e2e


def report(checked: list[Target], flatness: str) -> list[dict[str, Any]]:
    """A PASS/FAIL line per target; the same as records for bench/results.json."""
    lines = []
    for label, value, bound, unit, op in checked:
        passed = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
        lines.append({"target": label, "value": value, "passed": passed})
        print(f"{'PASS' if passed else 'FAIL'}  {label}: {value:.2f}{unit}", flush=True)
    flat_label = "Documents read per list page stay flat as another client grows 100x"
    lines.append({"target": flat_label, "value": flatness, "passed": flatness == "flat"})
    print(f"{'PASS' if flatness == 'flat' else 'FAIL'}  {flat_label}: {flatness}", flush=True)
    return lines


def targets(
    found: dict[str, float],
    best: dict[str, bff.Best],
    transport_rows: list[Figures],
    split: dict[str, float],
    e2e_ratio: float,
    soaked: dict[str, Any],
) -> list[Target]:
    """Every target with its figure from this run: ratios to the floor (uvicorn + a bare ASGI
    function making the one aiohttp call) and to the plain FastAPI proxy, from the interleaved
    rounds (`bff.ratios`); the kept targets from their own sections."""
    route = "list courses"
    ours = "BFF -> stub (aiohttp)"
    floor1, floor32, peer32 = best["floor c=1"], best["floor c=32"], best["peer c=32"]
    list1, list32, reply32 = best["list c=1"], best["list c=32"], best["reply c=32"]
    added_floor = floor1.p50_ms - best["direct c=1"].p50_ms
    added_ours = list1.p50_ms - best["direct c=1"].p50_ms
    gateway32 = {row.name: row.rps for row in transport_rows if row.concurrency == 32}
    print(
        f"p99 at c=32, list courses: this BFF {list32.p99_ms:.1f} ms, the floor {floor32.p99_ms:.1f} ms, "
        f"the plain FastAPI proxy {peer32.p99_ms:.1f} ms",
        flush=True,
    )
    print(
        f"CPU per request at c=32: floor {floor32.cpu_us:.0f} µs, list {list32.cpu_us:.0f} µs, ticket reply "
        f"{reply32.cpu_us:.0f} µs, plain FastAPI proxy {peer32.cpu_us:.0f} µs; added p50 at c=1: floor "
        f"{added_floor:.2f} ms, this BFF {added_ours:.2f} ms; throughput at c=32: this BFF {list32.rps:.0f} rps, "
        f"the plain FastAPI proxy {peer32.rps:.0f} rps",
        flush=True,
    )
    return [
        (
            "List route CPU per request <= 3.5x the floor's, c=32",
            list32.cpu_us / floor32.cpu_us,
            3.5,
            "x",
            "<=",
        ),
        (
            "Write route (ticket reply) CPU per request <= 4x the floor's, c=32",
            reply32.cpu_us / floor32.cpu_us,
            4.0,
            "x",
            "<=",
        ),
        ("Added latency p50 at c=1 <= 2x the floor's", added_ours / added_floor, 2.0, "x", "<="),
        (
            "Throughput >= 3.5x the plain FastAPI proxy's, c=32",
            list32.rps / peer32.rps,
            3.5,
            "x",
            ">=",
        ),
        (
            "CPU per request <= 0.3x the plain FastAPI proxy's, c=32",
            list32.cpu_us / peer32.cpu_us,
            0.3,
            "x",
            "<=",
        ),
        (
            "BFF throughput >= 0.5x the in-process ceiling at c=32",
            found[f"{ours}|{route}|32|rps"] / found[f"BFF canned in process|{route}|32|rps"],
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
        ("Actor cache hit path makes no Convex call", split["actor: Convex calls on cache hits"], 0.0, " calls", "<="),
        (
            "End to end (embedded backend): BFF >= 0.8x the same Convex function called directly, c=32",
            e2e_ratio,
            0.8,
            "x",
            ">=",
        ),
        (
            f"Soak {soak.SECONDS:.0f} s at c={soak.CONCURRENCY}, list + write: 0 errors (warm-up included)",
            sum(soaked["errors"].values()),
            0.0,
            " errors",
            "<=",
        ),
        (
            "Soak: the BFF's RSS at the end <= 1.2x its RSS after the warm-up",
            soaked["rss_end_mb"] / soaked["rss_warm_mb"],
            1.2,
            "x",
            "<=",
        ),
    ]


def cookie_vs_bearer(found: dict[str, float]) -> dict[str, float]:
    """CPU per request of the same list as a signed-in browser (session cookie) and with a token."""
    figures = {"cookie": found["cookie|32|cpu"], "bearer": found["BFF -> stub (aiohttp)|list courses|32|cpu"]}
    print(
        "\nA signed-in browser's request (session cookie) vs a bearer token's, list courses, c=32: "
        f"{figures['cookie']:.0f} vs {figures['bearer']:.0f} µs CPU per request",
        flush=True,
    )
    return figures


async def interleaved_rounds(results: dict[str, Any]) -> dict[str, bff.Best]:
    section(f"The targets' figures: floor, this BFF and the plain FastAPI proxy in {bff.ROUNDS} interleaved rounds")
    round_rows: list[Figures] = []
    best = await bff.ratios(round_rows)
    print_rows(round_rows)
    results["rounds"] = records(round_rows)
    results["best_of_rounds"] = {key: vars(figures) for key, figures in best.items()}
    return best


async def main() -> None:
    started = time.monotonic()
    results: dict = {
        "mode": "full" if FULL else "quick",
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "observability": OBSERVABILITY,
    }
    print(f"make bench ({results['mode']}), {os.cpu_count()} cores, {results['date']}", flush=True)
    print(f"Observability on: {OBSERVABILITY_NOTE}", flush=True)

    section("Transports: the gateway over each HTTP client, canned upstream stub (client on core 0)")
    transport_rows = await gateway_transports()
    results["transports"] = records(transport_rows)

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})  # the load generator shares core 1 with the stub
    section("Ceiling: the real BFF routes (uvicorn, 1 worker on core 0) vs the stub and in process")
    ceiling_rows: list[Figures] = []
    found = await bff.ceiling(ceiling_rows)
    print_rows(ceiling_rows)

    section("Peers: the list route on a plain FastAPI proxy (httpx, pydantic), this BFF, the ceiling")
    peer_rows: list[Figures] = []
    await bff.peer(peer_rows)
    peer_ratios = peers_table(peer_rows + ceiling_rows)

    section("Servers: list courses at c=32 over the stub (the BFF unpinned, on both cores)")
    server_rows: list[Figures] = []
    await bff.servers(server_rows)
    print_rows(server_rows)

    section("End to end on the embedded backend (a Node process: not a Convex figure): BFF vs direct")
    e2e_rows: list[Figures] = []
    e2e = await end_to_end(e2e_rows)
    e2e_ratio = e2e["bff_over_direct_c32"]

    section("The official ConvexClient on the request path vs the gateway (embedded backend)")
    official_rows = await official_client.measure()

    section("CPU per request, split by stage (list courses, this process)")
    split = await cost_split.measure()
    cost_split.print_split(split)

    section("Observability: CPU per request with logs + metrics, and with tracing, against both off")
    observability = await observability_cost.measure()

    section(f"Soak: {soak.SECONDS:.0f} s at c={soak.CONCURRENCY}, list + write mixed, BFF over the stub")
    soaked = await soak.measure()

    section("Data cost: documents read by one list page as another client's data grows 100x")
    flatness = data_cost()

    for name, rows in (
        ("ceiling", ceiling_rows),
        ("peers", peer_rows),
        ("servers", server_rows),
        ("e2e", e2e_rows),
        ("official", official_rows),
    ):
        results[name] = records(rows)
    results["peer_ratios"] = peer_ratios
    results["e2e_summary"] = e2e
    results["soak"] = soaked
    results["split"] = split
    results["observability_us"] = observability

    results["cookie_vs_bearer_cpu_us"] = cookie_vs_bearer(found)

    best = await interleaved_rounds(results)
    section("Targets")
    results["targets"] = report(targets(found, best, transport_rows, split, e2e_ratio, soaked), flatness)
    results["seconds"] = time.monotonic() - started
    minutes, seconds = divmod(round(results["seconds"]), 60)
    print(f"\nmake bench took {minutes} min {seconds:02d} s", flush=True)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
