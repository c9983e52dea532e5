"""Course enrollments (convex/enrollments.ts): routes, schemas, and what the API document says of them."""

from app.enrollments import routes, schemas
from app.http.domain import STATE_CONFLICTS, Domain, Examples

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"enrollments": "Members enrolled on courses, their withdrawal and completion."},
    conflicts=(*STATE_CONFLICTS, "already_enrolled"),
    resources={"Enrollment": "enrollmentId", "EnrollmentWithMember": "enrollmentId"},
    listed_by={"enrollmentId": "listCourseEnrollments"},
    examples=Examples.load(__file__),
)

__all__ = ["DOMAIN", "routes", "schemas"]
