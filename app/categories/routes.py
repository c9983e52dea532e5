"""Course categories (convex/categories.ts)."""

from typing import Annotated, Any

from app.categories.schemas import Category, CategoryCreate
from app.deps import ActorGateway, Pagination, requires
from app.http.routing import DomainRouter

router = DomainRouter("/categories", tag="categories")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanManageCategories = Annotated[ActorGateway, requires("categories.manage")]
CanReadCategories = Annotated[ActorGateway, requires("categories.read")]


@router.lists("", "listCategories", "List course categories", Category)
async def list_categories(convex: CanReadCategories, page: Pagination) -> dict[str, Any]:
    """Lists the client's course categories in name order, for pickers and filters. Paged with `cursor`/`limit`; the
    next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page("categories:list", page)


@router.reads("/{categoryId}", "getCategory", "Read one course category", Category)
async def get_category(categoryId: str, convex: CanReadCategories) -> dict[str, Any]:
    """Returns one course category; an id unknown in this client answers 404 `not_found`."""
    return await convex.query("categories:get", {"categoryId": categoryId})


@router.creates("", "createCategory", "Create a course category", Category, location="/{id}")
async def create_category(body: CategoryCreate, convex: CanManageCategories) -> dict[str, Any]:
    """Creates a course category that courses can then be tagged with. The `slug` must be unique within the client,
    otherwise the call fails with 409 `conflict`."""
    return await convex.mutation("categories:create", {**body.model_dump(exclude_none=True)})
