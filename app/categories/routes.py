"""Course categories (convex/categories.ts)."""

from typing import Annotated, Any

from fastapi import APIRouter, status

from app.categories.schemas import Category, CategoryCreate
from app.deps import ActorGateway, Pagination, requires
from app.pagination import Page
from app.problems import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS
from app.protection.idempotency import IdempotentPostRoute

router = APIRouter(prefix="/v1/clients/{client}/categories", tags=["categories"], route_class=IdempotentPostRoute)

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanManageCategories = Annotated[ActorGateway, requires("categories.manage")]
CanReadCategories = Annotated[ActorGateway, requires("categories.read")]


@router.get(
    "",
    operation_id="listCategories",
    summary="List course categories",
    response_model=Page[Category],
    responses=LIST_ERRORS,
)
async def list_categories(convex: CanReadCategories, page: Pagination) -> dict[str, Any]:
    """Lists the client's course categories in name order, for pickers and filters. Paged with `cursor`/`limit`; the
    next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page("categories:list", page)


@router.get(
    "/{categoryId}",
    operation_id="getCategory",
    summary="Read one course category",
    response_model=Category,
    responses=READ_ERRORS,
)
async def get_category(categoryId: str, convex: CanReadCategories) -> dict[str, Any]:
    """Returns one course category; an id unknown in this client answers 404 `not_found`."""
    return await convex.query("categories:get", {"categoryId": categoryId})


@router.post(
    "",
    operation_id="createCategory",
    summary="Create a course category",
    status_code=status.HTTP_201_CREATED,
    response_model=Category,
    responses=WRITE_ERRORS,
)
async def create_category(body: CategoryCreate, convex: CanManageCategories) -> dict[str, Any]:
    """Creates a course category that courses can then be tagged with. The `slug` must be unique within the client,
    otherwise the call fails with 409 `conflict`."""
    return await convex.mutation("categories:create", {**body.model_dump(exclude_none=True)})
