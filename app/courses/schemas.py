"""Courses and their category links: request and response bodies."""

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypeAliasType

from app.facts import LIMITS, TEXT_MAX
from app.http.bodies import MAX_EPOCH_MS, NOT_BLANK, PatchBody, RequestBody, ResponseBody

CourseStatus = TypeAliasType("CourseStatus", Literal["draft", "published", "archived"])

# The CPD points a course awards (create and edit alike).
CpdPoints = Annotated[int, Field(ge=LIMITS["courseCpdPoints"]["min"], le=LIMITS["courseCpdPoints"]["max"])]


class Course(ResponseBody):
    id: str
    title: str
    description: str | None = None
    status: CourseStatus
    cpdPoints: int
    startAt: int | None = None
    createdAt: int
    updatedAt: int


class CourseCategory(ResponseBody):
    id: str
    name: str
    slug: str


class CourseCreate(RequestBody):
    title: str = Field(
        min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["title"], examples=["Fire Safety Essentials"]
    )
    description: str | None = Field(default=None, max_length=TEXT_MAX["description"])
    cpdPoints: CpdPoints | None = None
    startAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
    categoryIds: list[str] | None = Field(default=None, max_length=LIMITS["categoriesPerCourse"])


class CourseUpdate(PatchBody):
    title: str | None = Field(default=None, min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["title"])
    description: str | None = Field(default=None, max_length=TEXT_MAX["description"])
    cpdPoints: CpdPoints | None = None
    startAt: int | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
