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

ANSWERS = {"identity:resolveActor": ACTOR, "courses:list": COURSES, "tickets:messages": MESSAGES}


def encoded(path: str) -> bytes:
    """The HTTP body Convex would answer `path` with."""
    return json.dumps({"status": "success", "value": ANSWERS.get(path, COURSES), "logLines": []}).encode()


BODIES = {path: encoded(path) for path in ANSWERS}
