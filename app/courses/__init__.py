"""Courses (convex/courses.ts): routes, schemas, and what the API document says of them."""

from app.courses import routes, schemas
from app.http.domain import STATE_CONFLICTS, Domain, Examples

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"courses": "Courses a client runs: drafts, publication, CPD points, categories."},
    conflicts=(*STATE_CONFLICTS, "already_enrolled"),
    resources={"Course": "courseId", "CourseCategory": "categoryId"},
    listed_by={"courseId": "listCourses"},
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "routes", "schemas"]
