"""Course enrollments (convex/enrollments.ts): routes, schemas, and what the API document says of them."""

from app.enrollments import routes, schemas
from app.http.domain import STATE_CONFLICTS, Domain, Examples
from app.openapi.demo import AS_A_MEMBER, COURSE_FIRE_SAFETY, ENROLLMENT_MIA_FIRE_SAFETY, MEMBER_MAX

ONE_ACTIVE_ENROLLMENT = (
    "This example and the other action's (withdraw, complete) end the same enrollment, the demo's one active "
    "enrollment in acme: once one ran, the other answers 409 `invalid_transition`."
)

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"enrollments": "Members enrolled on courses, their withdrawal and completion."},
    conflicts=(*STATE_CONFLICTS, "already_enrolled"),
    resources={"Enrollment": "enrollmentId", "EnrollmentWithMember": "enrollmentId"},
    listed_by={"enrollmentId": "listCourseEnrollments"},
    examples=Examples(
        parameters={
            "enrolInCourse": {"courseId": COURSE_FIRE_SAFETY},
            "listCourseEnrollments": {"courseId": COURSE_FIRE_SAFETY},
            "getEnrollment": {"enrollmentId": ENROLLMENT_MIA_FIRE_SAFETY},
            "withdrawEnrollment": {"enrollmentId": ENROLLMENT_MIA_FIRE_SAFETY},
            "completeEnrollment": {"enrollmentId": ENROLLMENT_MIA_FIRE_SAFETY},
        },
        bodies={"enrolInCourse": {"memberId": MEMBER_MAX}},
        try_it_out={
            "withdrawEnrollment": ONE_ACTIVE_ENROLLMENT,
            "completeEnrollment": ONE_ACTIVE_ENROLLMENT,
            "listMyEnrollments": AS_A_MEMBER,
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
