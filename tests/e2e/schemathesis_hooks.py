"""Hooks for schemathesis's command line (`hooks` in schemathesis.toml): what a well-behaved
client does that a schema cannot say, and how this API refuses valid input for domain reasons."""

import uuid

import schemathesis

# `format: email` cannot say that RFC 6761 reserved names (x@y.test) take no mail; the BFF's
# email check refuses them, the one rule of its own the schema cannot state.
RESERVED_EMAIL_DOMAIN = "special-use or reserved name"


def is_positive(case: schemathesis.Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict) -> None:
    """For schema-valid input: a fresh Idempotency-Key per request (the same key with another
    body is a 422 by design), and a cursor only as the server issued it (an invented one is a
    400 invalid_cursor by design), so no cursor at all."""
    if not is_positive(case):
        return
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    if case.query:
        case.query.pop("cursor", None)


@schemathesis.check
def valid_input_refused_only_by_domain_rules(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis.toml lets positive_data_acceptance take a 422 for schema-valid input, since
    a request may still break a rule that depends on the data or the role (end after start, a
    member to act for); this narrows it to exactly that: a 422 naming such a rule. The BFF's own
    validation (pydantic's errors carry a `type`) must never refuse what its schema allows."""
    if not is_positive(case) or response.status_code != 422:
        return None
    errors = response.json().get("errors", [])
    schema_errors = [e for e in errors if e.get("type") and RESERVED_EMAIL_DOMAIN not in e.get("message", "")]
    if schema_errors:
        raise AssertionError(f"The schema allows what validation refused: {schema_errors}")
    return None
