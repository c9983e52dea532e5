"""The packages the API is made of, in the order the OpenAPI document lists their tags.

The app includes their routers from this list, and the OpenAPI document reads what each
declares beside its routes (app/http/domain.py): a new resource joins the API by being added here.
"""

from app import (
    api_keys,
    audit,
    categories,
    courses,
    enrollments,
    events,
    health,
    identity,
    live,
    members,
    registrations,
    sessions,
    sponsors,
    tickets,
    webhooks,
)
from app.http.domain import Domain

DOMAINS: tuple[Domain, ...] = (
    identity.DOMAIN,
    sessions.DOMAIN,
    courses.DOMAIN,
    enrollments.DOMAIN,
    events.DOMAIN,
    registrations.DOMAIN,
    tickets.DOMAIN,
    members.DOMAIN,
    categories.DOMAIN,
    sponsors.DOMAIN,
    api_keys.DOMAIN,
    webhooks.DOMAIN,
    audit.DOMAIN,
    live.DOMAIN,
    health.DOMAIN,
)
