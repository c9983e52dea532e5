"""Who the caller is, in which clients, with which capabilities: response bodies."""

from typing import Literal

from pydantic import BaseModel, Field


class Membership(BaseModel):
    client: str = Field(description="The client's slug, used in `/v1/clients/{client}/...`.")
    clientName: str
    role: str


class Me(BaseModel):
    kind: Literal["user", "api_key"]
    email: str | None = None
    name: str | None = None
    isPlatformAdmin: bool = False
    memberships: list[Membership]


class CapabilityDecision(BaseModel):
    action: str
    description: str
    allowed: bool
    reason: str


class MyCapabilities(BaseModel):
    client: str
    role: str
    capabilities: list[CapabilityDecision]
