"""Sponsors and the events they back: request and response bodies."""

from typing import Literal

from pydantic import Field, HttpUrl
from typing_extensions import TypeAliasType

from app.facts import TEXT_MAX
from app.http.bodies import NOT_BLANK, RequestBody, ResponseBody

SponsorTier = TypeAliasType("SponsorTier", Literal["gold", "silver", "bronze"])


class Sponsor(ResponseBody):
    id: str
    name: str
    website: str | None = None
    description: str | None = None
    tier: SponsorTier | None = None
    createdAt: int
    updatedAt: int


class SponsorCreate(RequestBody):
    name: str = Field(min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["title"], examples=["Northwind Training"])
    website: HttpUrl | None = Field(default=None, examples=["https://northwind.example.org"])
    description: str | None = Field(
        default=None, max_length=TEXT_MAX["description"], examples=["Training partner for members' CPD."]
    )
    tier: SponsorTier | None = Field(default=None, examples=["bronze"])


class SponsorUpdate(RequestBody):
    name: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["title"])
    website: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=TEXT_MAX["description"])
    tier: SponsorTier | None = Field(default=None, description="client_admin only.")
