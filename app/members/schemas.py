"""Member profiles and their interests: request and response bodies."""

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.facts import LIMITS, PATTERNS, TEXT_MAX
from app.http.bodies import NOT_BLANK, EmailAddress, PatchBody, RequestBody, ResponseBody

MemberStatus = TypeAliasType("MemberStatus", Literal["active", "inactive", "suspended"])

PHONE: str = PATTERNS["phone"]

# A member's CPD points, as a client sets them (create and edit alike).
CpdPoints = Annotated[int, Field(ge=LIMITS["memberCpdPoints"]["min"], le=LIMITS["memberCpdPoints"]["max"])]


class Member(ResponseBody):
    id: str
    userId: str | None = Field(default=None, description="Set when the member can sign in.")
    firstName: str
    lastName: str
    email: str
    phone: str | None = None
    status: MemberStatus
    cpdPoints: int
    createdAt: int
    updatedAt: int


class Interest(ResponseBody):
    id: str
    name: str


class MemberCreate(RequestBody):
    firstName: str = Field(min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["name"], examples=["Nia"])
    lastName: str = Field(min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["name"], examples=["Newman"])
    email: EmailAddress = Field(examples=["nia.newman@example.org"])
    phone: str | None = Field(default=None, pattern=PHONE, examples=["+44 20 7946 0018"])
    status: MemberStatus | None = None
    cpdPoints: CpdPoints | None = None


class MemberUpdate(PatchBody):
    firstName: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["name"])
    lastName: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["name"])
    email: EmailAddress | None = None
    phone: str | None = Field(default=None, pattern=PHONE)
    status: MemberStatus | None = None
    cpdPoints: CpdPoints | None = None


class MyProfileUpdate(PatchBody):
    """A member's own edit: names and phone only (status and CPD points are the client's)."""

    firstName: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["name"])
    lastName: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["name"])
    phone: str | None = Field(default=None, pattern=PHONE)


class InterestsPut(RequestBody):
    interestCategoryIds: list[str] = Field(max_length=LIMITS["interestsPerMember"])
