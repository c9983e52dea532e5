"""Burst, idle, burst through a load balancer whose idle close reaches the BFF late.

A load balancer in front of Convex closes a client connection after T seconds idle, and its FIN
reaches the client D seconds later. With T + D below the BFF's own idle timeout
(CONVEX_IDLE_TIMEOUT_S, 4 s), the BFF's pool still holds the connection when the next burst
comes, and nothing on it is readable yet, so its check before reuse passes: a request written
in that window is dropped unread and its connection reset (tests/fault_proxy.py, `late_fin_s`).
The issue measured this at T = 2.85 s, D = 0.3 s: 34 requests written into closing connections,
8 answers of 504 outcome_unknown, and in one run the breaker opened (210 answers of 503).

Here the proxy sits on its own event loop in front of the embedded backend, and the BFF runs in
process with rate limits on (each lease is a mutation), the circuit breaker on with its defaults,
CONVEX_ATTEMPTS 3, its logs captured rather than printed. Six rounds of 60 requests of one member,
3 s apart (from the end of one round to the start of the next), so every gap straddles the
close: 15 reads of its tickets, 15 of a ticket's thread, 15 replies on that ticket and 15 new
tickets, each write with an Idempotency-Key and a text of its own. Per setting it prints the
answers, the requests the proxy saw written into closing connections, the calls the gateway sent
again, the breaker's openings, and for the writes: how many were acknowledged, how many are
stored (read back from the backend's data) and how many are stored twice. A write answered 5xx
is then sent again once with its Idempotency-Key, as a client would, and the read-back is after
that.

Three settings (SETTINGS): the issue's; one whose FIN arrives before the next burst; one whose
FIN comes a second late. A setting that would end past BUDGET_S is skipped, and said so.

`python -m bench.lb_idle` (about 2 min; traffic only to 127.0.0.1).
"""

import asyncio
import collections
import logging
import re
import secrets
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
from asgi_correlation_id import correlation_id
from asgi_lifespan import LifespanManager
from purgatory.domain.messages.events import ContextChanged

from app.gateway.client import ConvexGateway
from app.main import create_app
from app.settings import Settings
from bench.burst_idle import ADMIN_KEY, bench_settings, token
from devtools.embedded import embedded_backend
from tests.fault_proxy import FIN_LINGER_S, fault_proxy_in_thread

MEMBER = "member@acme.test"
ROUNDS, PER_ROUND, GAP_S = 6, 60, 3.0
BUDGET_S = 170.0  # a setting that would end past this is skipped (and said so)
# (label, T: idle close, D: how late its FIN arrives). The first is the issue's; the second's
# FIN arrives before the next burst (the check before reuse should see every close); the third
# keeps connections in their closing window longer, so retries can meet closing ones too.
SETTINGS = [("T=2.85 D=0.3", 2.85, 0.3), ("T=1.5 D=0.3", 1.5, 0.3), ("T=2.85 D=1.0", 2.85, 1.0)]


class Captured(logging.Handler):
    """The app's warning lines, kept instead of printed, with the request id each was logged under."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.request_ids: list[str | None] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")
        self.request_ids.append(correlation_id.get())


@dataclass
class Write:
    kind: str  # "reply" | "open"
    text: str  # the reply's body, or the new ticket's subject: unique
    key: str  # Idempotency-Key
    status: int = 0
    code: str = ""
    resent_status: int | None = None


@dataclass
class Figures:
    label: str
    answers: collections.Counter[Any] = field(default_factory=collections.Counter)
    writes: list[Write] = field(default_factory=list)
    attempts: collections.Counter[Any] = field(default_factory=collections.Counter)  # (kind, attempt)
    sent_again: collections.Counter[Any] = field(default_factory=collections.Counter)  # function
    idle_closes: int = 0
    written_while_closing: collections.Counter[Any] = field(default_factory=collections.Counter)
    written_after_fin: collections.Counter[Any] = field(default_factory=collections.Counter)
    # What each failed attempt met underneath ("<function>: <exception>").
    causes: collections.Counter[Any] = field(default_factory=collections.Counter)
    breaker_openings: int = 0
    # The writes whose text was in the backend's data before the 5xx ones were sent again.
    stored_before_resend: set[str] = field(default_factory=set)
    # Each answer that was not 2xx: its request id (X-Request-ID).
    failed_request_ids: list[str] = field(default_factory=list)
    # The Convex calls that failed their last attempt, by the request id they were logged under.
    exhausted: dict[str, list[str]] = field(default_factory=dict)
    log_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0


def settings_for(convex_url: str) -> Settings:
    # Circuit breaker on, with its defaults (5 failures, 10 s); CONVEX_ATTEMPTS 3 (default).
    return bench_settings(convex_url, circuit_breaker_enabled=True, log_level="WARNING")


def count_attempts(figures: Figures) -> Any:
    """Wraps the gateway's one-attempt call to count attempts (each retry is attempt >= 2)."""
    original = ConvexGateway._send

    async def _send(self: ConvexGateway, kind: str, path: str, body: bytes, attempt: int) -> Any:
        figures.attempts[(kind, attempt)] += 1
        if attempt > 1:
            figures.sent_again[f"{kind} {path}"] += 1
        try:
            return await original(self, kind, path, body, attempt)  # type: ignore[arg-type]
        except Exception as exc:
            cause = exc.__cause__ or exc
            figures.causes[f"{path}: {type(cause).__name__}"] += 1
            raise

    ConvexGateway._send = _send  # type: ignore[method-assign]
    return original


async def one_round(api: httpx.AsyncClient, figures: Figures, ticket: str, round_no: int) -> None:
    headers = {"Authorization": f"Bearer {token(MEMBER)}"}
    base = "/v1/clients/acme/tickets"
    calls: list[tuple[Write | None, Coroutine[Any, Any, httpx.Response]]] = []
    for i in range(PER_ROUND):
        nonce = secrets.token_hex(4)
        match i % 4:
            case 0:
                calls.append((None, api.get(f"{base}/mine", params={"limit": 5}, headers=headers)))
            case 1:
                calls.append((None, api.get(f"{base}/{ticket}/messages", params={"limit": 5}, headers=headers)))
            case 2:
                write = Write("reply", f"lb-idle {figures.label} r{round_no} w{i} {nonce}", secrets.token_hex(12))
                body = {"body": write.text}
                calls.append((write, api.post(f"{base}/{ticket}/messages", json=body, headers=_with(headers, write))))
            case _:
                write = Write("open", f"lb-idle {figures.label} r{round_no} w{i} {nonce}", secrets.token_hex(12))
                body = {"subject": write.text, "body": "Opened by bench/lb_idle.py"}
                calls.append((write, api.post(base, json=body, headers=_with(headers, write))))
    answers = await asyncio.gather(*(call for _, call in calls))
    for (sent, _), answer in zip(calls, answers, strict=True):
        code = _code(answer)
        figures.answers[("write " if sent is not None else "read ") + f"{answer.status_code} {code}".strip()] += 1
        if answer.status_code >= 300:
            figures.failed_request_ids.append(answer.headers.get("X-Request-ID", ""))
        if sent is not None:
            sent.status, sent.code = answer.status_code, code
            figures.writes.append(sent)


def _with(headers: dict[str, str], write: Write) -> dict[str, str]:
    return {**headers, "Idempotency-Key": write.key}


def _code(answer: httpx.Response) -> str:
    if answer.status_code < 500:
        return ""
    try:
        return str(answer.json().get("code", ""))
    except ValueError:
        return "(not JSON)"


async def resend_unanswered(api: httpx.AsyncClient, figures: Figures, ticket: str) -> None:
    """Each write answered 5xx, sent again once with its Idempotency-Key (docs/api.md, "Errors")."""
    headers = {"Authorization": f"Bearer {token(MEMBER)}"}
    base = "/v1/clients/acme/tickets"
    for write in figures.writes:
        if write.status < 500:
            continue
        if write.kind == "reply":
            url, body = f"{base}/{ticket}/messages", {"body": write.text}
        else:
            url, body = base, {"subject": write.text, "body": "Opened by bench/lb_idle.py"}
        answer = await api.post(url, json=body, headers=_with(headers, write))
        write.resent_status = answer.status_code


async def run_setting(backend_url: str, ticket: str, label: str, idle_s: float, late_s: float) -> Figures:
    figures = Figures(label)
    captured = Captured()
    app_log = logging.getLogger("app")
    app_log.addHandler(captured)
    app_log.propagate = False
    original = count_attempts(figures)
    started = time.monotonic()
    try:
        with fault_proxy_in_thread(backend_url, idle_close_s=idle_s, late_fin_s=late_s) as proxy:
            app = create_app(settings_for(proxy.url))
            async with LifespanManager(app) as manager:
                breaker = app.state.services.gateway.breaker

                def opened(circuit: str, kind: str, event: Any) -> None:
                    if isinstance(event, ContextChanged) and event.state == "opened":
                        figures.breaker_openings += 1

                breaker._factory.add_listener(opened)
                transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
                async with httpx.AsyncClient(transport=transport, base_url="http://bff.bench", timeout=60) as api:
                    for round_no in range(1, ROUNDS + 1):
                        if round_no > 1:
                            await asyncio.sleep(GAP_S)
                        await one_round(api, figures, ticket, round_no)
                        print(f"  {label}: round {round_no} done", file=sys.stderr, flush=True)
                    messages, subjects = await stored_texts(backend_url)
                    figures.stored_before_resend = {
                        w.text for w in figures.writes if (messages if w.kind == "reply" else subjects)[w.text]
                    }
                    await resend_unanswered(api, figures, ticket)
            # The app closed its pool: let the proxy's handlers and closes in progress end before its loop does.
            await asyncio.sleep(late_s + FIN_LINGER_S + 0.2)
            figures.idle_closes = proxy.idle_closes
            figures.written_while_closing = collections.Counter(proxy.written_while_closing)
            figures.written_after_fin = collections.Counter(proxy.written_after_fin)
    finally:
        ConvexGateway._send = original  # type: ignore[method-assign]
        app_log.removeHandler(captured)
        app_log.propagate = True
    figures.log_lines = captured.lines
    for line, request_id in zip(captured.lines, captured.request_ids, strict=True):
        if (m := re.search(r"convex (\w+) (\S+) failed: .* attempt (\d+)/(\d+)$", line)) and m[3] == m[4]:
            figures.exhausted.setdefault(request_id or "", []).append(f"{m[1]} {m[2]}")
    figures.seconds = time.monotonic() - started
    return figures


async def stored_texts(backend_url: str) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Every reply body and ticket subject in the backend's data, counted (GET /_embedded/snapshot)."""
    async with httpx.AsyncClient(timeout=60) as http:
        answer = await http.get(f"{backend_url}/_embedded/snapshot", headers={"Authorization": f"Convex {ADMIN_KEY}"})
        answer.raise_for_status()
        data = answer.json()
    messages = collections.Counter(m["body"] for m in data["supportTicketMessages"])
    subjects = collections.Counter(t["subject"] for t in data["supportTickets"])
    return messages, subjects


def report(figures: Figures, messages: collections.Counter[str], subjects: collections.Counter[str]) -> None:
    answers = figures.answers
    total = sum(answers.values())
    ok = sum(n for status, n in answers.items() if status.split()[1].startswith("2"))
    not_ok: collections.Counter[str] = collections.Counter()
    for status, n in answers.items():
        code = status.split(" ", 1)[1]
        if not code.startswith("2"):
            not_ok[code] += n
    by_side = {status: n for status, n in sorted(answers.items()) if not status.split()[1].startswith("2")}
    mutation_attempts = sum(n for (kind, _), n in figures.attempts.items() if kind == "mutation")
    query_attempts = sum(n for (kind, _), n in figures.attempts.items() if kind == "query")
    mutations_again = sum(n for what, n in figures.sent_again.items() if what.startswith("mutation "))
    queries_again = sum(n for what, n in figures.sent_again.items() if what.startswith("query "))
    warned = collections.Counter(
        f"attempt {m.group(1)}/{m.group(2)}"
        for line in figures.log_lines
        if (m := re.search(r"attempt (\d+)/(\d+)$", line))
    )
    failure_codes = collections.Counter(
        m.group(1) for line in figures.log_lines if (m := re.search(r"failed: \w+ \((\w+)\)", line))
    )

    def mutations(counter: collections.Counter[str]) -> int:
        return sum(n for what, n in counter.items() if what.startswith("mutation"))

    closing, after_fin = figures.written_while_closing, figures.written_after_fin
    writes = figures.writes
    acknowledged = sum(1 for w in writes if 200 <= w.status < 300)
    unanswered = [w for w in writes if w.status >= 500]
    stored_counts = [(messages if w.kind == "reply" else subjects)[w.text] for w in writes]
    stored = sum(1 for n in stored_counts if n >= 1)
    doubled = sum(1 for n in stored_counts if n > 1)
    applied_unanswered = sum(1 for w in unanswered if w.text in figures.stored_before_resend)
    resent_ok = sum(1 for w in unanswered if (w.resent_status or 0) // 100 == 2)
    print(f"\n{figures.label}: {ROUNDS} rounds of {PER_ROUND}, {GAP_S:.0f} s apart ({figures.seconds:.0f} s)")
    print(f"  requests {total}, 2xx {ok}, others by code: {dict(sorted(not_ok.items())) or 'none'}")
    if by_side:
        print(f"    by side: {by_side}")
    print(
        f"  proxy: {figures.idle_closes} idle closes; written into closing connections "
        f"(late-FIN window, never forwarded): {sum(closing.values())} ({mutations(closing)} mutations) "
        f"{dict(sorted(closing.items()))}"
    )
    print(
        f"    written just after the FIN (taken from the pool before it arrived): {sum(after_fin.values())} "
        f"({mutations(after_fin)} mutations) {dict(sorted(after_fin.items()))}"
    )
    print(
        f"  gateway: {query_attempts} query attempts, {mutation_attempts} mutation attempts; sent again: "
        f"{mutations_again} mutations, {queries_again} queries {dict(sorted(figures.sent_again.items()))}"
    )
    print(f"    warning lines: {dict(sorted(warned.items())) or 'none'}; failed attempts: {dict(failure_codes)}")
    if figures.causes:
        print(f"    what failed attempts met: {dict(sorted(figures.causes.items()))}")
    # Each answer that was not 2xx, by the call that failed for it: its own last attempt, or none of
    # its own (it waited on another request's call: the single-flight actor look-up).
    blamed: collections.Counter[str] = collections.Counter(
        ", ".join(figures.exhausted.get(request_id, [])) or "no call of its own (a shared look-up failed)"
        for request_id in figures.failed_request_ids
    )
    if blamed:
        print(f"    answers not 2xx, by the call that failed all its attempts: {dict(blamed)}")
    print(f"  breaker openings: {figures.breaker_openings}")
    print(
        f"  writes {len(writes)}: acknowledged {acknowledged}, answered 5xx {len(unanswered)} "
        f"(applied all the same: {applied_unanswered}); after the 5xx ones were sent again with their "
        f"Idempotency-Key ({resent_ok} of {len(unanswered)} then 2xx): stored {stored}, doubled {doubled}"
    )
    other = [line for line in figures.log_lines if "attempt" not in line]
    if other:
        print(f"  other warning lines ({len(other)}), first: {other[0][:200]}")


async def main() -> None:
    started = time.monotonic()
    results: list[Figures] = []
    with embedded_backend(ADMIN_KEY, seed=True) as backend:
        gateway = ConvexGateway(backend.url, ADMIN_KEY)
        try:
            ticket = (await gateway.query("demo:exampleIds"))["TICKET_MIA"]
        finally:
            await gateway.aclose()
        for label, idle_s, late_s in SETTINGS:
            took = max((f.seconds for f in results), default=0.0)
            if time.monotonic() - started + 1.2 * took > BUDGET_S:
                print(f"  {label}: skipped, it would not finish within {BUDGET_S:.0f} s", file=sys.stderr)
                continue
            results.append(await run_setting(backend.url, ticket, label, idle_s, late_s))
        messages, subjects = await stored_texts(backend.url)
    print(
        "\nlb_idle: BFF in process -> proxy (idle close T, FIN D late) -> embedded backend; "
        "CONVEX_IDLE_TIMEOUT_S 4, CONVEX_ATTEMPTS 3, breaker on (5 failures, 10 s)"
    )
    for figures in results:
        report(figures, messages, subjects)
    print(f"\nlb_idle took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
