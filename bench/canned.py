"""Canned Convex answers for the benches, one per function the measured routes call; shaped
like the real ones so the BFF's response models accept them."""

import json

NOW = 1.7952e12

ACTOR = {"clientId": "k1;clients", "clientSlug": "acme", "role": "client_user", "userId": "u1;users"}
COURSES = {
    "page": [
        {
            "id": f"c{i};courses",
            "title": f"Course {i}",
            "description": "Fire safety for managers.",
            "status": "published",
            "cpdPoints": 5.0,
            "startAt": NOW,
            "createdAt": NOW,
            "updatedAt": NOW,
        }
        for i in range(30)
    ],
    "isDone": False,
    "continueCursor": "next-page",
}
MESSAGES = {
    "page": [
        {
            "id": f"m{i};ticketMessages",
            "ticketId": "t1;tickets",
            "authorUserId": "u1;users",
            "body": "Thanks, that helped.",
            "internal": False,
            "createdAt": NOW,
        }
        for i in range(20)
    ],
    "isDone": True,
    "continueCursor": "end",
}

# The soak's write route (POST a ticket reply): the stub keeps nothing, so it can be repeated.
REPLY = {**MESSAGES["page"][0], "id": "m-reply;ticketMessages", "body": "Soak reply."}
# Rate limiting on (the soak): every request spends a unit and is allowed.
BUDGET = 1_000_000_000
RATE_LIMIT = {
    "allowed": True,
    # A lease of 20 requests (app/protection/rate_limit.py), renewed once its window ends.
    "granted": 20,
    "resetMs": 30_000,
    "buckets": [
        {"name": f"principal:{ACTOR['userId']}", "limit": BUDGET, "remaining": BUDGET - 1},
        {"name": f"client:{ACTOR['clientId']}", "limit": BUDGET, "remaining": BUDGET - 1},
    ],
}

# A browser session (app/sessions/store.py), its access token valid far beyond the bench: a
# cookie request costs a session look-up at most every SESSION_CACHE_TTL_S, no refresh.
SESSION = {
    "session": {
        "id": "s1;sessions",
        "authSubject": "user|staff@acme.test",
        "issuer": "http://127.0.0.1:9/bench-issuer",
        "tokens": "v1.sealed-tokens",
        "accessExpiresAt": NOW * 2,
        "createdAt": NOW,
        "lastSeenAt": NOW,
        "idleExpiresAt": NOW * 2,
        "absoluteExpiresAt": NOW * 2,
    },
    "slideDue": False,
}

ANSWERS = {
    "identity:resolveActor": ACTOR,
    "sessions:resolve": SESSION,
    "courses:list": COURSES,
    "tickets:messages": MESSAGES,
    "tickets:reply": REPLY,
    "rateLimits:consume": RATE_LIMIT,
    # Each process's webhook worker polls for due deliveries, as in production; none are due.
    "webhooks:claimDue": [],
    "webhooks:nextDueAt": None,
}


def encoded(path: str) -> bytes:
    """The HTTP body Convex would answer `path` with."""
    return json.dumps({"status": "success", "value": ANSWERS.get(path, COURSES), "logLines": []}).encode()


BODIES = {path: encoded(path) for path in ANSWERS}
