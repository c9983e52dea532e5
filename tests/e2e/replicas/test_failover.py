"""Three BFF processes behind HAProxy under c=32 of mixed reads and writes: a rolling restart
fails no request at all, a crash fails only the requests in flight on the killed process (their
retries apply once), every acknowledged write is stored once, and live streams carry on
(tests/e2e/replicas/failover.py runs it; docs/deploy.md has its figures)."""

from collections.abc import AsyncIterator

import pytest

from devtools.embedded import embedded_backend
from tests.e2e.conftest import ADMIN_KEY
from tests.e2e.replicas.failover import RETRIED, Report, run_failover
from tests.e2e.replicas.stack import needs_haproxy

pytestmark = [needs_haproxy, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
async def report(tmp_path_factory) -> AsyncIterator[Report]:
    with embedded_backend(ADMIN_KEY, seed=True) as backend:
        yield await run_failover(backend.url, tmp_path_factory.mktemp("failover"))


async def test_the_rolling_restart_fails_no_request_not_even_a_first_attempt(report):
    assert report.calls_in("rolling restart"), "the restart ran under load"
    assert report.failed_attempts("rolling restart") == []


async def test_the_crash_fails_only_requests_in_flight_on_the_killed_process(report):
    failed = report.failed_attempts("crash")
    assert all(a.status is None or a.status in RETRIED for a in failed)
    # In flight: sent before the kill, answered (with an error) after it. A request sent later
    # found the process gone: HAProxy sent it elsewhere (a refused connection is safe to redispatch).
    assert all(a.started < report.t_kill <= a.ended for a in failed), failed
    assert len(failed) <= 32


async def test_every_request_succeeds_in_the_end(report):
    assert [c for c in report.calls if not c.acknowledged] == []


async def test_every_acknowledged_write_is_stored_once_and_none_twice(report):
    writes = [c for c in report.calls if c.kind == "write"]
    assert writes
    assert {c.body: report.stored_bodies[c.body] for c in writes if c.acknowledged} == {
        c.body: 1 for c in writes if c.acknowledged
    }
    assert all(report.stored_bodies[c.body] <= 1 for c in writes)


async def test_a_retried_write_answers_the_id_it_was_stored_with(report):
    retried = [c for c in report.calls if c.kind == "write" and len(c.attempts) > 1 and c.acknowledged]
    for call in retried:
        assert call.answer is not None and call.answer["body"] == call.body


async def test_the_draining_replica_turned_unready_at_once_and_exited_within_its_grace(report):
    assert report.ready_503_after_s < 1.0
    assert report.drain_s < 3.0 + 10.0  # SHUTDOWN_DRAIN_S + SHUTDOWN_TIMEOUT_S


async def test_live_streams_reconnect_and_carry_on_without_a_gap_or_a_repeat(report):
    for stream in report.streams:
        assert len(stream.ids) == len(set(stream.ids)), "no event twice"
        assert set(stream.ids) == set(report.thread_ids), "every message of the thread, across reconnections"
    assert sum(s.retry_hints for s in report.streams) >= 1, "a stream on the stopped replica ended with retry:"
    assert sum(s.connections for s in report.streams) > len(report.streams), "streams reconnected"


async def test_no_replica_but_the_stopped_ones_left_the_balancer(report):
    down = report.figures()["servers_marked_down"]
    assert not [line for line in down if "bff3" in line], down
    assert not [line for line in report.balancer_log if "no server available" in line]
