"""Events and their speakers: request and response bodies."""

from typing import Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.facts import LIMITS, TEXT_MAX
from app.http.bodies import MAX_EPOCH_MS, NOT_BLANK, PatchBody, RequestBody, ResponseBody

EventStatus = TypeAliasType("EventStatus", Literal["draft", "published", "cancelled", "archived"])

MAX_SPEAKERS: int = LIMITS["speakersPerEvent"]


class Speaker(RequestBody):
    name: str = Field(min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["title"], examples=["Dr Rosa Field"])
    title: str | None = Field(default=None, max_length=TEXT_MAX["title"], examples=["Chief Scientist"])
    bio: str | None = Field(default=None, max_length=TEXT_MAX["bio"], examples=["Twenty years in applied research."])


class SpeakerOut(ResponseBody):
    name: str
    title: str | None = None
    bio: str | None = None


class Event(ResponseBody):
    id: str
    title: str
    description: str | None = None
    location: str | None = None
    status: EventStatus
    startAt: int = Field(description="Milliseconds since the epoch.")
    endAt: int
    registrationOpensAt: int | None = None
    registrationClosesAt: int | None = None
    capacity: int | None = Field(default=None, description="Absent: unlimited.")
    registeredCount: int = Field(description="Active registrations (no personal data).")
    speakers: list[SpeakerOut]
    createdAt: int
    updatedAt: int


class EventSchedule(RequestBody):
    registrationOpensAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS, examples=[1796083200000])
    registrationClosesAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS, examples=[1798675200000])
    capacity: int | None = Field(
        default=None, ge=LIMITS["eventCapacity"]["min"], le=LIMITS["eventCapacity"]["max"], examples=[120]
    )
    speakers: list[Speaker] | None = Field(default=None, max_length=MAX_SPEAKERS)


class EventCreate(EventSchedule):
    title: str = Field(
        min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["title"], examples=["Spring Members' Forum"]
    )
    description: str | None = Field(
        default=None, max_length=TEXT_MAX["description"], examples=["Talks and workshops for members."]
    )
    location: str | None = Field(default=None, max_length=TEXT_MAX["location"], examples=["London"])
    startAt: int = Field(ge=0, le=MAX_EPOCH_MS, examples=[1798761600000])
    endAt: int = Field(ge=0, le=MAX_EPOCH_MS, examples=[1798772400000])


class EventUpdate(EventSchedule, PatchBody):
    title: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["title"])
    description: str | None = Field(default=None, max_length=TEXT_MAX["description"])
    location: str | None = Field(default=None, max_length=TEXT_MAX["location"])
    startAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
    endAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
