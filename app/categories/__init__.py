"""Interest categories (convex/categories.ts): routes, schemas, and what the API document says of them."""

from app.categories import routes, schemas
from app.http.domain import Domain, Examples, IdParameter
from app.openapi import demo

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"categories": "Interest categories that courses and members are tagged with."},
    ids={"categoryId": IdParameter("listCategories", ("Category",))},
    examples=Examples(parameters=demo.acting_on(categoryId={"CATEGORY_HEALTH_SAFETY": ("getCategory",)})),
)

__all__ = ["DOMAIN", "routes", "schemas"]
