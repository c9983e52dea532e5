"""What a mutation receipt costs each mutation (convex/lib/receipts.ts).

The same mutation, `tickets:reply` as a member on the member's ticket, through the gateway
(ConvexGateway, aiohttp) directly against the embedded backend, one call at a time: N times with
a receipt (`gateway.mutation`, a new random key each time, as every BFF mutation is sent) and N
times without (`gateway._call` with the arguments as given: `receipt` is optional in Convex, and
a run without it skips the receipt entirely). The two alternate, pair by pair, so the data's
growth weighs on both alike. Then the same receipt sent again (a replay, as after a lost answer).

Documents: a run with a new key makes one index read (`by_key`, nothing found) and writes one
document (`mutationReceipts`: the key, the owner, the result, the time). Counted here from the
backend's data before and after (GET /_embedded/snapshot) and from the documents each committed
mutation wrote (GET /_embedded/writes); the stored document's size is its JSON length.

The embedded backend is convex-test in Node, not Convex: an index read there visits every
document of the deployment (`_iterateDocs` filters all ids by table), so its time grows with the
data and overstates what a `by_key` lookup costs on Convex (an index seek). The figures below say
how many documents the deployment held while they were measured.

`python -m bench.receipt_cost [N]` (N = 1000 by default; under a minute; traffic only to 127.0.0.1).
"""

import asyncio
import secrets
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

from app.gateway.client import ConvexGateway
from devtools.embedded import embedded_backend

ADMIN_KEY = "bench-admin-key"
MEMBER_SUBJECT = "user|member@acme.test"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
WARM_UP = 20
PATH = "tickets:reply"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(label: str, ms: list[float]) -> str:
    return (
        f"{label:<34} n={len(ms):<4} mean {statistics.fmean(ms):6.2f} ms  p50 {pct(ms, 0.5):6.2f} ms  "
        f"p99 {pct(ms, 0.99):6.2f} ms"
    )


async def snapshot(http: httpx.AsyncClient) -> dict[str, list[dict[str, Any]]]:
    answer = await http.get("/_embedded/snapshot")
    answer.raise_for_status()
    data: dict[str, list[dict[str, Any]]] = answer.json()
    return data


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


async def measure() -> dict[str, Any]:
    """The timings, and the backend's data around them."""
    found: dict[str, Any] = {}
    with embedded_backend(ADMIN_KEY, seed=True) as backend:
        gateway = ConvexGateway(backend.url, ADMIN_KEY)
        headers = {"Authorization": f"Convex {ADMIN_KEY}"}
        async with httpx.AsyncClient(base_url=backend.url, headers=headers, timeout=60) as http:
            try:
                actor = await gateway.query(
                    "identity:resolveActor", {"clientSlug": "acme", "authSubject": MEMBER_SUBJECT}
                )
                ticket = (await gateway.query("demo:exampleIds"))["TICKET_MIA"]
                actor_arg = {k: actor[k] for k in ("clientId", "role", "userId") if actor.get(k) is not None}

                def args() -> dict[str, Any]:
                    return {"actor": actor_arg, "ticketId": ticket, "body": f"receipt cost {secrets.token_hex(6)}"}

                async def with_receipt() -> Any:
                    return await gateway.mutation(PATH, args())  # a new random receipt, as the BFF sends

                async def without_receipt() -> Any:
                    return await gateway._call("mutation", PATH, args())  # the arguments as given: no receipt

                for _ in range(WARM_UP):
                    await with_receipt()
                    await without_receipt()

                found["before"] = await snapshot(http)
                await http.delete("/_embedded/writes")
                times: dict[str, list[float]] = {"with": [], "without": []}
                found["times"] = times
                for i in range(N):
                    # Alternate which goes first, so neither always follows the other.
                    order = (("with", with_receipt), ("without", without_receipt))
                    for name, call in order if i % 2 == 0 else order[::-1]:
                        ms, _ = await timed(call)
                        times[name].append(ms)
                found["writes"] = (await http.get("/_embedded/writes")).json()
                found["after"] = await snapshot(http)

                # A replay: the same receipt sent again answers the recorded result, running nothing.
                key = secrets.token_hex(16)
                replay_args = args()
                first = await gateway.mutation(PATH, replay_args, receipt=key)
                found["replay_before"] = await snapshot(http)
                found["replays"] = []
                for _ in range(min(N, 100)):
                    ms, again = await timed(lambda: gateway.mutation(PATH, replay_args, receipt=key))
                    assert again == first, (again, first)
                    found["replays"].append(ms)
                found["final"] = await snapshot(http)
            finally:
                await gateway.aclose()
    return found


def report(found: dict[str, Any]) -> None:
    before, after, writes = found["before"], found["after"], found["writes"]
    with_ms, without_ms = found["times"]["with"], found["times"]["without"]
    docs_before = sum(len(docs) for docs in before.values())
    docs_after = sum(len(docs) for docs in after.values())
    print(f"receipt_cost: {PATH} through ConvexGateway -> embedded backend (convex-test in Node), one at a time")
    print(
        f"  {N} with and {N} without, alternating, after {WARM_UP} of each to warm up; the deployment held "
        f"{docs_before} documents at the start and {docs_after} at the end"
    )
    print(row("with a receipt (new key)", with_ms))
    print(row("without a receipt", without_ms))
    mean_diff = statistics.fmean(with_ms) - statistics.fmean(without_ms)
    print(
        f"{'difference (with - without)':<34}        mean {mean_diff:+6.2f} ms  "
        f"p50 {pct(with_ms, 0.5) - pct(without_ms, 0.5):+6.2f} ms  "
        f"p99 {pct(with_ms, 0.99) - pct(without_ms, 0.99):+6.2f} ms  "
        f"({statistics.fmean(with_ms) / statistics.fmean(without_ms) - 1:+.0%} on the mean)"
    )
    q = max(1, N // 4)
    first_q = statistics.fmean(with_ms[:q]) - statistics.fmean(without_ms[:q])
    last_q = statistics.fmean(with_ms[-q:]) - statistics.fmean(without_ms[-q:])
    print(f"  the mean difference over the first {q} pairs: {first_q:+.2f} ms; over the last {q}: {last_q:+.2f} ms")
    replay_before, final = found["replay_before"], found["final"]
    print(row("replay (the same receipt again)", found["replays"]))
    print(
        f"  the replays wrote {len(final['supportTicketMessages']) - len(replay_before['supportTicketMessages'])} "
        f"messages and {len(final['mutationReceipts']) - len(replay_before['mutationReceipts'])} receipts"
    )
    print(
        f"documents: mutationReceipts {len(before['mutationReceipts'])} -> {len(after['mutationReceipts'])} "
        f"(+{len(after['mutationReceipts']) - len(before['mutationReceipts'])} for {N} calls with a receipt "
        f"and {N} without)"
    )
    # Per committed tickets:reply: how many documents it wrote, and whether one was a receipt.
    per_call: Counter[tuple[int, int]] = Counter()
    for transaction in writes["transactions"]:
        if transaction["path"] == PATH:
            tables = Counter(d["table"] for d in transaction["documents"])
            per_call[(transaction["writeCount"], tables["mutationReceipts"])] += 1
    print(
        "  committed tickets:reply calls by documents written: "
        + ", ".join(f"{w} (of them {r} receipt): {n} calls" for (w, r), n in sorted(per_call.items()))
        + (f" ({writes['dropped']} transactions dropped from the log)" if writes.get("dropped") else "")
    )
    print(
        "  reads per call with a new key (convex/lib/receipts.ts): 1 index read (by_key, nothing found), "
        "then 1 insert; a replay: the same read, no write"
    )
    stored = after["mutationReceipts"][-1]
    document = len(orjson.dumps(stored))
    result = len(orjson.dumps(stored["result"]))
    fields = len(orjson.dumps({k: v for k, v in stored.items() if not k.startswith("_")}))
    print(
        f"stored receipt for a typical {PATH} result: {document} bytes of JSON with _id and _creationTime, "
        f"{fields} without; the result alone {result}, so {fields - result} bytes besides the result "
        f"({document - result} with the system fields)"
    )
    print(f"  {orjson.dumps(stored).decode()}")


async def main() -> None:
    started = time.monotonic()
    report(await measure())
    print(f"receipt_cost took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
