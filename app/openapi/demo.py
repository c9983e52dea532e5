"""The demo data's documents, named after what they are, for the examples Swagger UI prefills:
each domain package chooses, for its own operations (its `Examples`), values with which the
example succeeds as a client_admin of `acme` against the demo data `make run` starts with
(convex/demo.ts).

No id is written here. convex/demo.ts catalogues the documents the examples name
(EXAMPLE_DOCUMENTS: each by what identifies it there, as "the course of acme titled “Fire Safety
Essentials”", with the state its examples rely on), and `python -m devtools.demo_ids` looks each
up by name (demo:exampleIds) in freshly seeded demo data and writes the ids to demo_ids.json,
read below. It is a command of its own, not part of `python -m devtools.docs`: it needs a
backend. Run it after changing convex/demo.ts: the embedded backend (convex-test) numbers
documents in the order they are inserted, so the seed decides the ids (the same on every start).
tests/e2e/test_demo_ids.py fails when demo_ids.json is stale. Any other deployment has other ids:
there, each id parameter's description names the operation that lists them.
"""

import json
from pathlib import Path

IDS_PATH = Path(__file__).with_name("demo_ids.json")

# Each catalogued demo document's id by its name, as convex/demo.ts's demo:exampleIds found it.
DEMO_IDS: dict[str, str] = {
    name: id_ for name, id_ in json.loads(IDS_PATH.read_text()).items() if not name.startswith("$")
}

# How the parameter descriptions call the demo documents, by name.
DESCRIPTIONS = {
    "CATEGORY_HEALTH_SAFETY": "the category “Health & Safety”",
    "CATEGORY_LEADERSHIP": "the category “Leadership”",
    "COURSE_FIRE_SAFETY": "the course “Fire Safety Essentials”",
    "COURSE_DATA_PROTECTION": "the course “Data Protection in Practice”",
    "COURSE_NEGOTIATION_DRAFT": "the draft course “Advanced Negotiation”",
    "COURSE_LEGACY_ARCHIVED": "the archived course “Legacy Systems 101”",
    "ENROLLMENT_MIA_FIRE_SAFETY": "Mia Member's active enrollment in “Fire Safety Essentials”",
    "EVENT_CONFERENCE": "the event “Annual Conference”",
    "EVENT_BREAKFAST": "the event “Members' Breakfast”",
    "EVENT_GALA_DRAFT": "the draft event “Autumn Gala”",
    "REGISTRATION_MAX_BREAKFAST": "Max Member's registration for the breakfast",
    "REGISTRATION_MIA_CONFERENCE": "Mia Member's registration for the conference",
    "TICKET_MIA": "Mia Member's open ticket",
    "MEMBER_MIA": "Mia Member",
    "MEMBER_MAX": "Max Member",
    "MEMBER_KAI": "Kai Adams, a member with nothing active",
    "SPONSOR_PARTNER_BANK": "the sponsor “Partner Bank”",
    "SPONSOR_TOOLS": "the sponsor “Tools Ltd”",
}
_undescribable = sorted(set(DESCRIPTIONS) - set(DEMO_IDS))
if _undescribable:
    raise KeyError(f"{IDS_PATH.name} has no id for {', '.join(_undescribable)}: run `python -m devtools.demo_ids`")

# Demo documents by id, for the parameter descriptions.
DEMO_NAMES = {DEMO_IDS[name]: description for name, description in DESCRIPTIONS.items()}


# Notes that several domains' operations share (their `Examples.try_it_out`).
AS_A_MEMBER = (
    "As a member: it answers from the caller's own member profile, which staff do not have. "
    "`make token EMAIL=member@acme.test` prints a token for Mia Member to **Authorize** with."
)
A_STREAM = (
    "Swagger UI shows an answer once it ends, and a stream does not end: follow it with `curl -N` "
    "(docs/live-updates.md)."
)


def acting_on(**by_parameter: dict[str, tuple[str, ...]]) -> dict[str, dict[str, str]]:
    """A domain's path-parameter examples, written per parameter as the demo documents (by name)
    and the operations that act on each: `acting_on(eventId={"EVENT_GALA_DRAFT": ("publishEvent",)})`.
    Answers operationId -> {parameter: id}."""
    examples: dict[str, dict[str, str]] = {}
    for parameter, documents in by_parameter.items():
        for name, operations in documents.items():
            for operation in operations:
                examples.setdefault(operation, {})[parameter] = document(name)
    return examples


def document(name: str) -> str:
    """The id of the demo document catalogued as `name`, for a domain's `Examples`."""
    try:
        return DEMO_IDS[name]
    except KeyError:
        raise KeyError(
            f"{name} is not in the demo data's catalogue: add it to EXAMPLE_DOCUMENTS in convex/demo.ts (what "
            "identifies it in the demo data), then run `python -m devtools.demo_ids` (it writes "
            "app/openapi/demo_ids.json); describe it for the parameters in DESCRIPTIONS (app/openapi/demo.py)"
        ) from None
