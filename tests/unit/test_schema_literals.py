"""The `Literal` aliases of app/<domain>/schemas.py say what the validators of convex/schema.ts say.

A status, role, tier or priority is declared once for Convex, as a union of literals in
convex/schema.ts (`literals("draft", "published", ...)`), and the BFF's request and response
models repeat it as a `Literal` alias for the OpenAPI document. This test reads schema.ts as
text (the lists there are plain string literals) and holds each alias to the validator it
repeats: a value added on either side, or an alias nobody mapped, fails here.
"""

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from typing_extensions import TypeAliasType

from app.facts import CONVEX_DIR

APP_DIR = Path(__file__).resolve().parents[2] / "app"
SCHEMA_TS = CONVEX_DIR / "schema.ts"


@dataclass(frozen=True)
class Mirror:
    """The schema.ts validator an alias repeats: the same values in the same order, or, when
    `subset_because` says why, only some of them."""

    validator: str
    subset_because: str | None = None


# Python alias (module.name) -> the convex/schema.ts validator it repeats.
MIRRORS: dict[str, Mirror] = {
    # `clientRole`, not `role`: a key acts inside one client and never as platform_admin
    # (convex/apiKeys.ts takes `role: clientRole`), so "never above client_admin" is this list.
    "app.api_keys.schemas.ApiKeyRole": Mirror("clientRole"),
    "app.courses.schemas.CourseStatus": Mirror("publicationStatus"),
    "app.enrollments.schemas.EnrollmentStatus": Mirror("enrollmentStatus"),
    "app.events.schemas.EventStatus": Mirror("eventStatus"),
    "app.members.schemas.MemberStatus": Mirror("memberStatus"),
    "app.registrations.schemas.RegistrationStatus": Mirror("registrationStatus"),
    "app.sponsors.schemas.SponsorTier": Mirror("sponsorTier"),
    "app.tickets.schemas.TicketPriority": Mirror("ticketPriority"),
    "app.tickets.schemas.TicketStatus": Mirror("ticketStatus"),
    "app.webhooks.schemas.WebhookDeliveryStatus": Mirror("webhookDeliveryStatus"),
    "app.webhooks.schemas.WebhookDisabledReason": Mirror("webhookDisabledReason"),
}

# Aliases with no validator in schema.ts to repeat, and why.
BFF_ONLY: dict[str, str] = {
    "app.identity.schemas.PrincipalKind": "who the BFF authenticated, a user or an API key (app/auth/principal.py); "
    "Convex stores no such field",
    "app.webhooks.schemas.WebhookEventType": "the event types of convex/webhooks.json, which schema.ts reads "
    "rather than lists (tests/unit/webhooks/test_catalogue.py holds the alias to that file)",
}


# --- reading convex/schema.ts ---------------------------------------------------------------

DECLARATION = re.compile(r"^(?:export )?const (\w+) = (literals|v\.union)\(", re.MULTILINE)
STRING = r'"([^"\\]*)"'


def call_arguments(text: str, start: int) -> list[str]:
    """The top-level arguments of the call whose opening parenthesis ends at `start`."""
    arguments, depth, current, quoted = [], 1, "", False
    for char in text[start:]:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
            if depth == 0:
                break
        if not quoted and depth == 1 and char == ",":
            arguments.append(current.strip())
            current = ""
        else:
            current += char
    else:
        raise ValueError(f"unclosed call at offset {start} of {SCHEMA_TS.name}")
    return [argument for argument in [*arguments, current.strip()] if argument]


def literal_unions(text: str) -> dict[str, tuple[str, ...]]:
    """Every `const NAME = literals("a", ...)` and `const NAME = v.union(v.literal("a"), ...)`, its
    values in order; `...other.members` stands for another such validator's values. A union of
    anything else (`v.union(v.string(), v.null())`) is not one and is left out."""
    unions: dict[str, tuple[str, ...]] = {}
    for match in DECLARATION.finditer(text):
        name, form = match.groups()
        item = STRING if form == "literals" else rf"v\.literal\({STRING}\)"
        values: list[str] = []
        for argument in call_arguments(text, match.end()):
            spread = re.fullmatch(r"\.\.\.(\w+)\.members", argument)
            if spread and spread.group(1) in unions:
                values += unions[spread.group(1)]
            elif literal := re.fullmatch(item, argument):
                values.append(literal.group(1))
            else:
                break
        else:
            unions[name] = tuple(values)
    return unions


# --- reading the BFF's schemas modules -------------------------------------------------------


def literal_aliases() -> dict[str, tuple[Any, ...]]:
    """Every module-level `Literal` alias of app/<domain>/schemas.py (a `TypeAliasType` of a
    `Literal`, or a bare `Literal[...]`), by where it is defined, with its values in order."""
    found: dict[str, tuple[Any, ...]] = {}
    for path in sorted(APP_DIR.glob("*/schemas.py")):
        module_name = f"app.{path.parent.name}.schemas"
        for name, value in vars(importlib.import_module(module_name)).items():
            if isinstance(value, TypeAliasType) and value.__module__ != module_name:
                continue  # imported from another module, found there
            aliased = value.__value__ if isinstance(value, TypeAliasType) else value
            if get_origin(aliased) is Literal:
                found.setdefault(f"{module_name}.{name}", get_args(aliased))
    return found


SCHEMA_UNIONS = literal_unions(SCHEMA_TS.read_text())
ALIASES = literal_aliases()


def test_every_literal_alias_is_mapped_to_what_it_repeats():
    unmapped = sorted(set(ALIASES) - set(MIRRORS) - set(BFF_ONLY))
    assert not unmapped, (
        f"map each to its convex/schema.ts validator in MIRRORS (or in BFF_ONLY, saying why): {unmapped}"
    )
    gone = sorted((set(MIRRORS) | set(BFF_ONLY)) - set(ALIASES))
    assert not gone, f"mapped aliases no schemas module defines any more: {gone}"


def test_the_mapped_validators_exist_in_schema_ts():
    missing = sorted({mirror.validator for mirror in MIRRORS.values()} - set(SCHEMA_UNIONS))
    assert not missing, f"no union of literals by these names in {SCHEMA_TS.name}: {missing}"


@pytest.mark.parametrize("alias", sorted(MIRRORS), ids=lambda alias: alias.rsplit(".", 1)[1])
def test_the_alias_says_what_its_validator_says(alias):
    mirror = MIRRORS[alias]
    python, convex = ALIASES[alias], SCHEMA_UNIONS[mirror.validator]
    if mirror.subset_because is None:
        missing, extra = sorted(set(convex) - set(python)), sorted(set(python) - set(convex))
        assert python == convex, (
            f"{alias} {python} != schema.ts {mirror.validator} {convex}: "
            f"missing in Python {missing}, not in schema.ts {extra}"
        )
    else:
        assert set(python) <= set(convex), f"{alias} has values schema.ts {mirror.validator} does not: " + str(
            sorted(set(python) - set(convex))
        )


def test_the_reader_takes_both_forms_and_skips_other_unions():
    text = """
export const clientRole = literals("client_admin", "member");
export const role = v.union(v.literal("platform_admin"), ...clientRole.members);
const tier = literals(
  "gold",
  "silver",
);
export const nullable = v.union(v.string(), v.null());
export const storedResponse = v.object({ status: v.number() });
"""
    assert literal_unions(text) == {
        "clientRole": ("client_admin", "member"),
        "role": ("platform_admin", "client_admin", "member"),
        "tier": ("gold", "silver"),
    }
    assert SCHEMA_UNIONS["role"] == ("platform_admin", *SCHEMA_UNIONS["clientRole"])
