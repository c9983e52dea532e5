"""The demo data's documents, named after what they are, for the examples Swagger UI prefills:
each domain package chooses, for its own operations (its `Examples`), values with which the
example succeeds as a client_admin of `acme` against the demo data `make run` starts with
(convex/demo.ts).

The embedded backend (convex-test) numbers documents in the order they are inserted, and the demo
seed is the first thing it runs, so the demo's ids are the same on every start. Any other
deployment has other ids: there, each id parameter's description names the operation that lists
them. tests/e2e/test_swagger_ui.py runs every example on fresh demo data and fails when
convex/demo.ts moves an id away from what is named here.
"""

# acme's demo documents (convex/demo.ts), named after what they are there.
CATEGORY_HEALTH_SAFETY = "0000000000000000013023categories"
CATEGORY_LEADERSHIP = "0000000000000000013024categories"
COURSE_FIRE_SAFETY = "0000000000000000000013026courses"  # published; Mia is enrolled
COURSE_DATA_PROTECTION = "0000000000000000000013030courses"  # published, no enrollments
COURSE_NEGOTIATION_DRAFT = "0000000000000000000013032courses"
COURSE_LEGACY_ARCHIVED = "0000000000000000000013034courses"  # no enrollments
ENROLLMENT_MIA_FIRE_SAFETY = "000000000013036courseEnrollments"  # active
EVENT_CONFERENCE = "00000000000000000000013038events"  # published, 1 of 200 places taken (Mia)
EVENT_BREAKFAST = "00000000000000000000013039events"  # published, 9 of 10 places taken
EVENT_GALA_DRAFT = "00000000000000000000013040events"  # no registrations
REGISTRATION_MAX_BREAKFAST = "00000000013044eventRegistrations"  # confirmed
REGISTRATION_MIA_CONFERENCE = "00000000013053eventRegistrations"  # confirmed
TICKET_MIA = "000000000000013054supportTickets"  # open, assigned to Sam Staff
MEMBER_MIA = "000000000000010010memberProfiles"  # member@acme.test
MEMBER_MAX = "000000000000010013memberProfiles"  # member2@acme.test
MEMBER_KAI = "000000000000010028memberProfiles"  # a member who cannot sign in, with nothing active
INTEREST_LEADERSHIP = "00000000013018interestCategories"
INTEREST_COMPLIANCE = "00000000013020interestCategories"
SPONSOR_PARTNER_BANK = "000000000000000000010002sponsors"  # backs the conference and the gala
SPONSOR_TOOLS = "000000000000000000010003sponsors"  # backs the conference only
USER_SAM_STAFF = "000000000000000000000010006users"  # staff@acme.test, a client_user

# Demo documents by id, for the parameter descriptions.
DEMO_NAMES = {
    CATEGORY_HEALTH_SAFETY: "the category “Health & Safety”",
    CATEGORY_LEADERSHIP: "the category “Leadership”",
    COURSE_FIRE_SAFETY: "the course “Fire Safety Essentials”",
    COURSE_DATA_PROTECTION: "the course “Data Protection in Practice”",
    COURSE_NEGOTIATION_DRAFT: "the draft course “Advanced Negotiation”",
    COURSE_LEGACY_ARCHIVED: "the archived course “Legacy Systems 101”",
    ENROLLMENT_MIA_FIRE_SAFETY: "Mia Member's active enrollment in “Fire Safety Essentials”",
    EVENT_CONFERENCE: "the event “Annual Conference”",
    EVENT_BREAKFAST: "the event “Members' Breakfast”",
    EVENT_GALA_DRAFT: "the draft event “Autumn Gala”",
    REGISTRATION_MAX_BREAKFAST: "Max Member's registration for the breakfast",
    REGISTRATION_MIA_CONFERENCE: "Mia Member's registration for the conference",
    TICKET_MIA: "Mia Member's open ticket",
    MEMBER_MIA: "Mia Member",
    MEMBER_MAX: "Max Member",
    MEMBER_KAI: "Kai Adams, a member with nothing active",
    SPONSOR_PARTNER_BANK: "the sponsor “Partner Bank”",
    SPONSOR_TOOLS: "the sponsor “Tools Ltd”",
}


# Notes that several domains' operations share (their `Examples.try_it_out`).
AS_A_MEMBER = (
    "As a member: it answers from the caller's own member profile, which staff do not have. "
    "`make token EMAIL=member@acme.test` prints a token for Mia Member to **Authorize** with."
)
A_STREAM = (
    "Swagger UI shows an answer once it ends, and a stream does not end: follow it with `curl -N` "
    "(docs/live-updates.md)."
)

# Everything above by its name, as the packages' examples.json files name them.
NAMED: dict[str, str] = {
    name: value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
}
