"""Course categories: everyone in the client reads them; client_admin manages them."""

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import Field

from app.auth.actor import Actor, requires
from app.dependencies import Gateway
from app.models import NOT_BLANK, RequestBody, ResponseBody
from app.pagination import Page, Pagination
from app.protection.idempotency import IdempotentPostRoute
from app.routers._common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, list_page

router = APIRouter(prefix="/v1/clients/{client}/categories", tags=["categories"], route_class=IdempotentPostRoute)


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


@router.get(
    "",
    operation_id="listCategories",
    summary="List course categories",
    response_model=Page[Category],
    responses=LIST_ERRORS,
)
async def list_categories(
    actor: Annotated[Actor, requires("categories.read")], gateway: Gateway, page: Pagination
) -> dict:
    """Lists the client's course categories in name order, for pickers and filters. Paged with `cursor`/`limit`; the
    next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(gateway, "categories:list", actor, page)


@router.get(
    "/{categoryId}",
    operation_id="getCategory",
    summary="Read one course category",
    response_model=Category,
    responses=READ_ERRORS,
)
async def get_category(categoryId: str, actor: Annotated[Actor, requires("categories.read")], gateway: Gateway) -> dict:
    """Returns one course category; an id unknown in this client answers 404 `not_found`."""
    return await gateway.query("categories:get", {"actor": actor.arg(), "categoryId": categoryId})


@router.post(
    "",
    operation_id="createCategory",
    summary="Create a course category",
    status_code=status.HTTP_201_CREATED,
    response_model=Category,
    responses=WRITE_ERRORS,
)
async def create_category(
    body: CategoryCreate, actor: Annotated[Actor, requires("categories.manage")], gateway: Gateway
) -> dict:
    """Creates a course category that courses can then be tagged with. The `slug` must be unique within the client,
    otherwise the call fails with 409 `conflict`."""
    return await gateway.mutation("categories:create", {"actor": actor.arg(), **body.model_dump(exclude_none=True)})
