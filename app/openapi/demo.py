"""What Swagger UI prefills: values chosen so that each operation's example succeeds, as a
client_admin of `acme`, against the demo data `make run` starts with (convex/demo.ts).

The embedded backend (convex-test) numbers documents in the order they are inserted, and the demo
seed is the first thing it runs, so the demo's ids are the same on every start. Any other
deployment has other ids: there, each id parameter's description names the operation that lists
them. tests/e2e/test_swagger_ui.py runs every example on fresh demo data and fails when
convex/demo.ts moves an id away from what is named here.
"""

from typing import Any

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

# Where an id comes from on any deployment, by the name of the parameter that takes it.
LISTED_BY = {
    "categoryId": "listCategories",
    "courseId": "listCourses",
    "enrollmentId": "listCourseEnrollments",
    "eventId": "listEvents",
    "registrationId": "listEventRegistrations",
    "ticketId": "listTickets",
    "memberId": "listMembers",
    "sponsorId": "listSponsors",
    "apiKeyId": "listApiKeys",
}

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

# Path parameters by operation. Each operation gets documents no other operation's example
# changes in a way that would make it fail: the action it names is allowed on them.
PARAMETERS: dict[str, dict[str, str]] = {
    "getCategory": {"categoryId": CATEGORY_HEALTH_SAFETY},
    "getCourse": {"courseId": COURSE_FIRE_SAFETY},
    "updateCourse": {"courseId": COURSE_FIRE_SAFETY},
    "deleteCourse": {"courseId": COURSE_LEGACY_ARCHIVED},
    "publishCourse": {"courseId": COURSE_NEGOTIATION_DRAFT},
    "archiveCourse": {"courseId": COURSE_DATA_PROTECTION},
    "listCourseCategories": {"courseId": COURSE_FIRE_SAFETY},
    "addCourseCategory": {"courseId": COURSE_FIRE_SAFETY, "categoryId": CATEGORY_LEADERSHIP},
    "removeCourseCategory": {"courseId": COURSE_FIRE_SAFETY, "categoryId": CATEGORY_HEALTH_SAFETY},
    "enrolInCourse": {"courseId": COURSE_FIRE_SAFETY},
    "listCourseEnrollments": {"courseId": COURSE_FIRE_SAFETY},
    "getEnrollment": {"enrollmentId": ENROLLMENT_MIA_FIRE_SAFETY},
    "withdrawEnrollment": {"enrollmentId": ENROLLMENT_MIA_FIRE_SAFETY},
    "completeEnrollment": {"enrollmentId": ENROLLMENT_MIA_FIRE_SAFETY},
    "getEvent": {"eventId": EVENT_CONFERENCE},
    "updateEvent": {"eventId": EVENT_CONFERENCE},
    "deleteEvent": {"eventId": EVENT_GALA_DRAFT},
    "publishEvent": {"eventId": EVENT_GALA_DRAFT},
    "cancelEvent": {"eventId": EVENT_GALA_DRAFT},
    "archiveEvent": {"eventId": EVENT_BREAKFAST},
    "registerForEvent": {"eventId": EVENT_CONFERENCE},
    "listEventRegistrations": {"eventId": EVENT_CONFERENCE},
    "getEventRegistrationCount": {"eventId": EVENT_CONFERENCE},
    "streamEventRegistrationCount": {"eventId": EVENT_CONFERENCE},
    "getRegistration": {"registrationId": REGISTRATION_MIA_CONFERENCE},
    "cancelRegistration": {"registrationId": REGISTRATION_MAX_BREAKFAST},
    "checkInRegistration": {"registrationId": REGISTRATION_MIA_CONFERENCE},
    # Only a paid registration can be refunded, and nothing sets `paid` yet: this one answers 409.
    "refundRegistration": {"registrationId": REGISTRATION_MIA_CONFERENCE},
    "getTicket": {"ticketId": TICKET_MIA},
    "listTicketMessages": {"ticketId": TICKET_MIA},
    "replyToTicket": {"ticketId": TICKET_MIA},
    "addTicketInternalNote": {"ticketId": TICKET_MIA},
    "changeTicketStatus": {"ticketId": TICKET_MIA},
    "assignTicket": {"ticketId": TICKET_MIA},
    "streamTicketMessages": {"ticketId": TICKET_MIA},
    "getMember": {"memberId": MEMBER_MIA},
    "updateMember": {"memberId": MEMBER_MAX},
    "deleteMember": {"memberId": MEMBER_KAI},
    "listMemberInterests": {"memberId": MEMBER_MIA},
    "setMemberInterests": {"memberId": MEMBER_MIA},
    "getSponsor": {"sponsorId": SPONSOR_PARTNER_BANK},
    "updateSponsor": {"sponsorId": SPONSOR_PARTNER_BANK},
    # Tools Ltd backs the conference: it can be deleted once detachEventSponsor's example ran.
    "deleteSponsor": {"sponsorId": SPONSOR_TOOLS},
    "listEventSponsors": {"eventId": EVENT_CONFERENCE},
    "attachEventSponsor": {"eventId": EVENT_BREAKFAST, "sponsorId": SPONSOR_PARTNER_BANK},
    "detachEventSponsor": {"eventId": EVENT_CONFERENCE, "sponsorId": SPONSOR_TOOLS},
    "listSponsoredEvents": {"sponsorId": SPONSOR_PARTNER_BANK},
}

# Request bodies that name demo documents, or whose values depend on the document they change
# (an event's edit must leave its registration window open for registerForEvent's example).
# Other bodies are built from their model's own examples (app/*/schemas.py).
BODIES: dict[str, dict[str, Any]] = {
    "createCourse": {
        "title": "First Aid at Work",
        "description": "Recognise an emergency and act on it until help arrives.",
        "cpdPoints": 4,
        "startAt": 1798761600000,
        "categoryIds": [CATEGORY_HEALTH_SAFETY],
    },
    "updateCourse": {"description": "Fire safety for every workplace, with a practical session.", "cpdPoints": 6},
    "enrolInCourse": {"memberId": MEMBER_MAX},
    "updateEvent": {"location": "Manchester Central", "capacity": 250},
    "registerForEvent": {"memberId": MEMBER_MAX},
    "openTicket": {
        "subject": "Certificate shows the wrong name",
        "body": "Mia's CPD certificate reads 'Mia Memer'. Could you reissue it?",
        "priority": "normal",
        "memberId": MEMBER_MIA,
    },
    "assignTicket": {"assigneeUserId": USER_SAM_STAFF},
    "updateMember": {"phone": "+44 20 7946 0123", "cpdPoints": 12},
    "updateMyProfile": {"phone": "+44 20 7946 0456"},
    "setMemberInterests": {"interestCategoryIds": [INTEREST_LEADERSHIP, INTEREST_COMPLIANCE]},
    "updateSponsor": {"description": "Partner of the Annual Conference since 2020."},
    # Without `sponsorId`, which only a sponsor role takes.
    "createApiKey": {"name": "CRM sync", "role": "client_user"},
}

_AS_A_MEMBER = (
    "As a member: it answers from the caller's own member profile, which staff do not have. "
    "`make token EMAIL=member@acme.test` prints a token for Mia Member to **Authorize** with."
)
_ONE_ACTIVE_ENROLLMENT = (
    "This example and the other action's (withdraw, complete) end the same enrollment, the demo's one active "
    "enrollment in acme: once one ran, the other answers 409 `invalid_transition`."
)
_A_STREAM = (
    "Swagger UI shows an answer once it ends, and a stream does not end: follow it with `curl -N` "
    "(docs/live-updates.md)."
)

# What an operation's description adds for Swagger UI when its example cannot succeed as a
# client_admin on fresh demo data, or only after another one ran.
_A_BROWSER = (
    "A browser's: sign in by opening `/v1/auth/login?returnTo=/` in the browser itself, and the session cookie goes "
    "with this operation. A bearer token is no session (`getSession` answers 401), and where sign-in is not "
    "configured the sign-in routes answer 404."
)
_A_PLATFORM_ADMIN = "Platform admins only (`make token EMAIL=support@platform.test`); acme's admin gets 403."

TRY_IT_OUT = {
    "refundRegistration": "Only a `paid` registration can be refunded and nothing sets `paid` yet (there are no "
    "payments), so the demo data has none: the example answers 409 `invalid_transition`.",
    "deleteSponsor": "A sponsor that backs events cannot be deleted (409 `conflict`); the example, Tools Ltd, "
    "backs the conference until the example of `detachEventSponsor` detaches it.",
    "withdrawEnrollment": _ONE_ACTIVE_ENROLLMENT,
    "completeEnrollment": _ONE_ACTIVE_ENROLLMENT,
    "revokeApiKey": "The demo data has no API keys: create one with `createApiKey` and revoke its `key.id`.",
    "listMyEnrollments": _AS_A_MEMBER,
    "listMyRegistrations": _AS_A_MEMBER,
    "listMyTickets": _AS_A_MEMBER,
    "getMyProfile": _AS_A_MEMBER,
    "updateMyProfile": _AS_A_MEMBER,
    "streamEventRegistrationCount": _A_STREAM,
    "streamTicketMessages": _A_STREAM,
    # Sign-in is a browser's, with the session cookie (docs/spa.md), not Swagger UI's.
    "getSession": _A_BROWSER,
    "signOut": _A_BROWSER,
    "backchannelLogout": "Called by the OpenID provider with a signed logout token, never by hand: the example "
    "answers 400 `invalid_logout_token` (404 where sign-in is not configured).",
    "endMySession": "Take a session's `id` from `listMySessions` (a bearer token has none of its own).",
    "listUserSessions": _A_PLATFORM_ADMIN,
    "endUserSession": _A_PLATFORM_ADMIN + " Take a session's `id` from `listUserSessions`.",
}
