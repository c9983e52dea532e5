"""Course enrollments (convex/enrollments.ts): routes, schemas, and what the API document says of them."""

from app.enrollments import routes, schemas
from app.http.domain import Domain, Examples, IdParameter
from app.openapi import demo

# withdrawEnrollment's and completeEnrollment's examples.
ENDS_THE_ACTIVE_ENROLLMENT = (
    "This example and the other action's (withdraw, complete) end the same enrollment, the demo's one active enrollment"
    " in acme: once one ran, the other answers 409 `invalid_transition`."
)

DOMAIN = Domain(
    routers=(routes.router,),
    tags={"enrollments": "Members enrolled on courses, their withdrawal and completion."},
    conflicts=("conflict", "invalid_transition", "already_enrolled"),
    ids={"enrollmentId": IdParameter("listCourseEnrollments", ("Enrollment", "EnrollmentWithMember"))},
    examples=Examples(
        parameters=demo.acting_on(
            courseId={"COURSE_FIRE_SAFETY": ("enrolInCourse", "listCourseEnrollments")},
            enrollmentId={"ENROLLMENT_MIA_FIRE_SAFETY": ("getEnrollment", "withdrawEnrollment", "completeEnrollment")},
        ),
        bodies={"enrolInCourse": {"memberId": demo.document("MEMBER_MAX")}},
        try_it_out={
            "withdrawEnrollment": ENDS_THE_ACTIVE_ENROLLMENT,
            "completeEnrollment": ENDS_THE_ACTIVE_ENROLLMENT,
            "listMyEnrollments": demo.AS_A_MEMBER,
        },
    ),
)

__all__ = ["DOMAIN", "routes", "schemas"]
