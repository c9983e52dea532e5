"""Who the caller is, in which clients, with which capabilities: response bodies."""

from typing import Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.http.bodies import ResponseBody

PrincipalKind = TypeAliasType("PrincipalKind", Literal["user", "api_key"])


class Membership(ResponseBody):
    client: str = Field(description="The client's slug, used in `/v1/clients/{client}/...`.")
    clientName: str
    role: str


class Me(ResponseBody):
    kind: PrincipalKind
    email: str | None = None
    name: str | None = None
    isPlatformAdmin: bool = False
    memberships: list[Membership]


class CapabilityDecision(ResponseBody):
    action: str
    description: str
    allowed: bool
    reason: str


class MyCapabilities(ResponseBody):
    client: str
    role: str
    capabilities: list[CapabilityDecision]
