"""Course categories: request and response bodies."""

from pydantic import Field

from app.facts import PATTERNS, TEXT_MAX
from app.http.bodies import NOT_BLANK, RequestBody, ResponseBody


class Category(ResponseBody):
    id: str
    name: str
    slug: str
    description: str | None = None
    createdAt: int = Field(description="Milliseconds since the epoch.")


class CategoryCreate(RequestBody):
    name: str = Field(min_length=1, pattern=NOT_BLANK, max_length=TEXT_MAX["name"], examples=["First Aid"])
    slug: str = Field(pattern=PATTERNS["slug"], max_length=TEXT_MAX["slug"], examples=["first-aid"])
    description: str | None = Field(
        default=None, max_length=TEXT_MAX["summary"], examples=["Courses in first aid at work."]
    )
