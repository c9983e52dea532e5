"""Course categories: request and response bodies."""

from pydantic import Field

from app.models import NOT_BLANK, RequestBody, ResponseBody


class Category(ResponseBody):
    id: str
    name: str
    slug: str
    description: str | None = None
    createdAt: int = Field(description="Milliseconds since the epoch.")


class CategoryCreate(RequestBody):
    name: str = Field(min_length=1, pattern=NOT_BLANK, max_length=100, examples=["Health & Safety"])
    slug: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=60, examples=["health-safety"])
    description: str | None = Field(default=None, max_length=2000)
