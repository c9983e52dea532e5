"""schemathesis's own command line (`st run`), as an integrator runs it against a deployment: every
check and every phase (examples, coverage, fuzzing, stateful) against a live BFF on 127.0.0.1 over
its own embedded backend, as a member, with an API key and as a client admin, with 0 failures.

Settings in schemathesis.toml (budget, the demo client, what counts as a refusal of valid input),
hooks in tests/e2e/schemathesis_hooks.py, and the OpenAPI links the stateful phase follows from one
answer's id to the next operation in app/openapi/links.py.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from devtools.embedded import ROOT, embedded_backend, free_port
from tests.e2e.conftest import ADMIN_KEY, AUDIENCE, ISSUER, JWT_SECRET

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Two runs at a time use both cores (one waits on the BFF or the backend while the other computes).
# The admin runs alone and last: it may revoke keys, and the integrator acts with one.
ROUNDS = (("member", "integrator"), ("admin",))
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# The actions (publish, archive, cancel, complete, withdraw, check-in, refund, revoke) the stateful
# phase reaches through the links: called with the id an earlier answer gave, and carried out (2xx)
# or refused by a domain rule on that very resource (409). Which ones a bounded run reaches depends
# on what hypothesis draws; tests/unit/test_openapi_links.py checks that a link leads to each.
ACTION_VERBS = {"publish", "archive", "cancel", "complete", "withdraw", "check-in", "refund", "revoke"}
ACTIONS_REACHED_AT_LEAST = 5


@pytest.fixture(scope="module")
def live_bff(e2e_settings: Settings) -> Iterator[str]:
    """The BFF under uvicorn on a free port of 127.0.0.1, on an embedded backend of its own (the runs
    create, change and delete a great deal), with the actor cache of a deployment."""
    with embedded_backend(ADMIN_KEY, seed=True) as own:
        settings = e2e_settings.model_copy(update={"convex_url": own.url, "actor_cache_ttl_s": 30.0})
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)


def bearer(email: str) -> dict[str, str]:
    """A token of the test issuer that outlives a slow run (conftest's last ten minutes)."""
    now = int(time.time())
    claims = {"sub": f"user|{email}", "email": email, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    return {"name": "Authorization", "value": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}


@pytest.fixture(scope="module")
def wfc_auth(live_bff: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The identities, as a Web Fuzzing Commons auth file (`[auth.wfc]` in schemathesis.toml):
    the client admin, two members (peers for object_level_authorization) and an integrator's key,
    created the way docs/integrators.md says."""
    admin = bearer("admin@acme.test")
    created = httpx.post(
        f"{live_bff}/v1/clients/acme/api-keys",
        json={"name": "schemathesis", "role": "client_user"},
        headers={admin["name"]: admin["value"]},
    )
    assert created.status_code == 201, created.text
    document = {
        "auth": [
            {"name": "admin", "fixedHeaders": [admin]},
            {"name": "member", "fixedHeaders": [bearer("member@acme.test")]},
            {"name": "member2", "fixedHeaders": [bearer("member2@acme.test")]},
            {"name": "integrator", "fixedHeaders": [{"name": "X-API-Key", "value": created.json()["secret"]}]},
        ]
    }
    path = tmp_path_factory.mktemp("schemathesis") / "auth.json"
    path.write_text(json.dumps(document))
    return path


def read_report(report_dir: Path) -> dict[str, Any]:
    """Cases and failures per phase, and what the stateful phase reached through links, from the
    run's NDJSON report: one event a line, a recorder of every case per finished scenario."""
    cases: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    seconds = 0.0
    linked: dict[str, Counter[int]] = defaultdict(Counter)
    (report,) = report_dir.glob("*.ndjson")
    for line in report.read_text().splitlines():
        event = json.loads(line)
        seconds = event.get("EngineFinished", {}).get("running_time", seconds)
        scenario = event.get("ScenarioFinished")
        if scenario is None:
            continue
        phase, recorder = scenario["phase"], scenario.get("recorder") or {}
        cases[phase] += len(recorder.get("cases", {}))
        checks = recorder.get("checks", {}).values()
        failures[phase] += sum(check["status"] == "failure" for results in checks for check in results)
        if phase != "stateful":
            continue
        for case_id, case in recorder.get("cases", {}).items():
            answer = recorder.get("interactions", {}).get(case_id, {}).get("response")
            if case.get("is_transition_applied") and answer:
                linked[f"{case['value']['method']} {case['value']['path']}"][answer["status_code"]] += 1
    return {"cases": cases, "failures": failures, "linked": linked, "seconds": seconds}


def start_schemathesis(url: str, principal: str, auth: Path, out: Path) -> subprocess.Popen[bytes]:
    """`st run` as `principal`, its output to out/output.txt and its NDJSON report into `out`."""
    out.mkdir()
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        ",".join(PHASES),
        "--auth-wfc-user",
        principal,
        "--report",
        "ndjson",
        "--report-dir",
        str(out),
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_WFC_AUTH": str(auth)}
    with (out / "output.txt").open("wb") as output:
        # From the repository root: schemathesis.toml is found there, and its hooks module imported.
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def failures_of(output: str) -> str:
    """A failed run's output from its failures (or errors) on: the header and progress left out."""
    sections = [output.find(title) for title in ("= FAILURES =", "= ERRORS =") if title in output]
    return output[min(sections, default=0) :][-20_000:]


def credentials_still_work(url: str, auth: Path, principal: str) -> bool:
    """Whether `principal` can still sign in: a run acting as another identity may revoke a key."""
    (entry,) = [entry for entry in json.loads(auth.read_text())["auth"] if entry["name"] == principal]
    headers = {header["name"]: header["value"] for header in entry["fixedHeaders"]}
    return httpx.get(f"{url}/v1/me", headers=headers).status_code == 200


@pytest.mark.timeout(1800)
def test_schemathesis_command_line_finds_nothing_as_each_principal(live_bff, wfc_auth, tmp_path):
    failed, reached, lines = [], set(), []
    started = time.monotonic()
    for together in ROUNDS:
        runs = {who: start_schemathesis(live_bff, who, wfc_auth, tmp_path / who) for who in together}
        try:
            for run in runs.values():
                run.wait(timeout=1200)
        finally:
            for run in runs.values():
                if run.poll() is None:
                    run.kill()
        for principal, run in runs.items():
            if run.returncode != 0:
                output = (tmp_path / principal / "output.txt").read_text()
                failed.append(f"--- {principal}: exit {run.returncode}\n{failures_of(output)}")
            if not any((tmp_path / principal).glob("*.ndjson")):
                continue
            report = read_report(tmp_path / principal)
            lines.append(
                f"{principal} ({report['seconds']:.0f} s): "
                + ", ".join(f"{p} {report['cases'][p]} cases {report['failures'][p]} failures" for p in PHASES)
            )
            for operation, statuses in sorted(report["linked"].items()):
                is_action = operation.startswith("POST ") and operation.rsplit("/", 1)[-1] in ACTION_VERBS
                if is_action and any(200 <= status < 300 or status == 409 for status in statuses):
                    reached.add(operation)
                lines.append(f"  linked {operation}: {dict(statuses)}")
            # Otherwise the run may have gone on with 401s, which schemathesis only warns about.
            assert credentials_still_work(live_bff, wfc_auth, principal), f"{principal} lost its credentials"
    lines.append(f"all three: {time.monotonic() - started:.0f} s; actions reached through links: {sorted(reached)}")
    print("\n".join(lines))
    assert not failed, "\n".join(failed)
    assert len(reached) >= ACTIONS_REACHED_AT_LEAST, f"the stateful phase reached only {sorted(reached)} through links"
