"""The embedded backend answers as Convex does where a client can tell the difference
(devbackend/README.md, "What it imitates of Convex, and where Convex says so").

The module starts its own backend over the backend's own fixture functions
(devbackend/test/fixture/convex), idle but for what the tests do, and uses the official
`convex` Python package unchanged.
"""

import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from convex.http_client import ConvexExecutionError, ConvexHttpClient

from devtools.embedded import EmbeddedBackend
from tests.e2e.conftest import FIXTURE_ADMIN_KEY as ADMIN_KEY

# Convex answers a failed mutation at once; 1 s leaves room for a loaded machine. Without the
# Transition Convex sends after every mutation, a ConvexError mutation waited for an unrelated
# commit: on an idle backend it had not returned after 20 s.
PROMPT_S = 1.0


# The official ConvexClient (Convex's Rust client) runs in a child process: a call that hangs
# inside it holds the interpreter's lock, so it could not be timed out from a thread.
CLIENT_SCRIPT = """
import json, sys, time
from convex import ConvexClient, ConvexError
url, key, calls = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = ConvexClient(url)
client.set_admin_auth(key)
client.query("notes:list")  # connected and authenticated before anything is timed
for kind, path, args in calls:
    started = time.perf_counter()
    try:
        outcome = {"value": getattr(client, kind)(path, args)}
    except ConvexError as error:
        outcome = {"convexError": error.data}
    except Exception as error:
        outcome = {"error": str(error)}
    outcome["elapsed"] = time.perf_counter() - started
    print(json.dumps(outcome, default=lambda v: v.value), flush=True)  # ConvexInt64
"""


def with_convex_client(backend: EmbeddedBackend, *calls: tuple[str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each call's outcome (`value`, `convexError` data or `error`) and `elapsed` seconds, made in order
    by one ConvexClient; fails if the calls have not all returned within 20 s."""
    command = [sys.executable, "-c", CLIENT_SCRIPT, backend.url, ADMIN_KEY, json.dumps(calls)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            stdout, stderr = child.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            stdout, stderr = child.communicate()
            pytest.fail(f"the ConvexClient calls had not all returned after 20 s; returned: {stdout!r}")
    outcomes = [json.loads(line) for line in stdout.splitlines()]
    assert len(outcomes) == len(calls), stderr
    for (kind, path, _), outcome in zip(calls, outcomes, strict=True):
        print(f"{kind} {path}: {outcome['elapsed'] * 1000:.0f} ms")
    return outcomes


# A Transition after every mutation and action (crates/sync/src/worker.rs).


def test_a_mutation_failing_with_a_convex_error_returns_at_once_on_an_idle_backend(fixture_backend):
    # Convex's Rust client completes a mutation that failed with a ConvexError only at the next
    # Transition (crates/convex/src/base_client/request_manager.rs), which Convex always sends.
    [failed] = with_convex_client(fixture_backend, ("mutation", "notes:addThenFail", {"text": "never kept"}))
    assert failed["convexError"] == {"code": "conflict", "message": "rolled back"}
    assert failed["elapsed"] < PROMPT_S


def test_a_mutation_failing_otherwise_returns_at_once(fixture_backend):
    [failed] = with_convex_client(fixture_backend, ("mutation", "notes:add", {"text": 5.0}))
    assert "ArgumentValidationError" in failed["error"]
    assert failed["elapsed"] < PROMPT_S


def test_a_successful_mutation_returns_once_its_write_is_visible(fixture_backend):
    added, listed = with_convex_client(
        fixture_backend, ("mutation", "notes:add", {"text": "read your writes"}), ("query", "notes:list", {})
    )
    assert added["value"] is None and added["elapsed"] < PROMPT_S
    assert {"text": "read your writes", "count": 1} in listed["value"]


def test_actions_return_at_once_whether_they_succeed_or_fail(fixture_backend):
    added, listed, failed = with_convex_client(
        fixture_backend,
        ("action", "notes:addViaAction", {"text": "by an action"}),
        ("query", "notes:list", {}),
        ("action", "notes:failingAction", {}),
    )
    assert added["value"] == "added" and added["elapsed"] < PROMPT_S
    assert {"text": "by an action", "count": 1} in listed["value"]
    assert failed["convexError"]["code"] == "unavailable" and failed["elapsed"] < PROMPT_S


def test_the_client_keeps_working_after_failed_mutations(fixture_backend):
    *failures, added, listed = with_convex_client(
        fixture_backend,
        *[("mutation", "notes:addThenFail", {"text": "again"})] * 3,
        ("mutation", "notes:add", {"text": "after the failures"}),
        ("query", "notes:list", {}),
    )
    assert all(failure["convexError"]["code"] == "conflict" for failure in failures)
    assert added["value"] is None
    assert {"text": "after the failures", "count": 1} in listed["value"]


# Convex's value limits (crates/value/src), on arguments and on the documents a function writes.


@pytest.fixture
def admin(fixture_backend: EmbeddedBackend) -> ConvexHttpClient:
    client = ConvexHttpClient(fixture_backend.url)
    client.set_admin_auth(ADMIN_KEY)
    return client


def test_arguments_over_convex_value_limits_fail_with_convex_messages(admin):
    with pytest.raises(ConvexExecutionError, match=r"Array length is too long \(8193 > maximum length 8192\)"):
        admin.query("notes:accept", {"value": [0.0] * 8193})
    assert admin.query("notes:accept", {"value": [0.0] * 8192}) is None


def test_a_document_over_one_mib_is_refused_and_not_written(admin, fixture_backend):
    with pytest.raises(ConvexExecutionError, match=r"Value is too large \(1\.00 MiB > maximum size 1 MiB\)"):
        admin.mutation("notes:addWith", {"text": "too big", "extra": "x" * (1 << 20)})
    snapshot = httpx.get(f"{fixture_backend.url}/_embedded/snapshot", headers={"Authorization": f"Convex {ADMIN_KEY}"})
    assert "too big" not in [note["text"] for note in snapshot.json()["notes"]]


# A warning on the backend's output for a function whose JavaScript runs past Convex's 1 s.


def test_a_function_running_past_one_second_is_named_on_the_backends_output(admin, fixture_backend):
    admin.mutation("notes:slowMutation", {"ms": 1100.0})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        warnings = [line for line in list(fixture_backend.log) if "notes:slowMutation" in line and "WARNING" in line]
        if warnings:
            break
        time.sleep(0.05)
    assert warnings, "".join(list(fixture_backend.log)[-20:])
    assert "mutation notes:slowMutation ran for 1." in warnings[0]
    assert "over Convex's limit of 1 s" in warnings[0]
